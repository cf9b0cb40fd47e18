export type { AuDashboardOptions } from './au-dashboard-options';
export { auDashboard } from './au-dashboard-plugin';
export { buildUi, type UiFile } from './build-ui';
export { type DashboardAsset, loadDashboardAssets } from './dashboard-assets';
