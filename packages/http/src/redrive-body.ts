import { z } from 'zod';

/** A time as JSON gives it: ms since the epoch, or an ISO 8601 string (as ms). */
export const time = z.union([
  z.number().finite().nonnegative(),
  z
    .string()
    .refine((text) => !Number.isNaN(Date.parse(text)), {
      message: 'must be an ISO 8601 date or ms since the epoch',
    })
    .transform((text) => Date.parse(text)),
]);
const retryable = z.enum(['failed', 'cancelled']);

/** The body of `POST /tasks/redrive`. */
export const redriveBody = z
  .object({
    task: z.string().min(1).optional(),
    status: z.union([retryable, z.array(retryable).min(1)]).optional(),
    since: time.optional(),
    tag: z.string().min(1).optional(),
    limit: z.number().int().min(1).optional(),
  })
  .strict();
