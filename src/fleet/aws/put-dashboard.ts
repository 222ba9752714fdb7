// fleet/aws/: writes one dashboard per account (PutDashboard); CloudWatch dashboards are global, each widget names its region.

import { PutDashboardCommand } from '@aws-sdk/client-cloudwatch';
import type { DashboardBody } from '../dashboard/body.js';
import type { FleetAws } from './session.js';
import { throttleSafe } from './throttle-safe.js';

export interface DashboardWritten {
  account: string;
  name: string;
  widgets: number;
  /** CloudWatch's validation messages (a widget it could not parse), if any. */
  messages: string[];
}

/** PutDashboard in `account`, through `homeRegion`'s endpoint. */
export async function putDashboard(aws: FleetAws, account: string, homeRegion: string, name: string, body: DashboardBody): Promise<DashboardWritten> {
  const out = await throttleSafe(() => aws.cloudWatch({ account, region: homeRegion }).send(new PutDashboardCommand({ DashboardName: name, DashboardBody: JSON.stringify(body) })));
  return { account, name, widgets: body.widgets.length, messages: (out.DashboardValidationMessages ?? []).map((m) => `${m.DataPath ?? ''}: ${m.Message ?? ''}`) };
}
