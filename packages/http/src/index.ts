export type { AuHttpOptions, OpenApiInfo } from './au-http-options';
export { type AuHttpDecorator, auHttp } from './au-http-plugin';
export { type ErrorBody, toErrorAnswer } from './error-handler';
export { HttpError } from './errors/http-error';
export { inputJsonSchema } from './openapi-schemas';
export type { LogLineView, LogsView } from './routes/log-routes';
export type { ErrorView, TaskView } from './task-view';
