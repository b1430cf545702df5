// Owns showing a plan interactively on a terminal (loaded only then, so other commands never load ink).
import { render } from 'ink';
import { PlanView } from './PlanView.js';
import type { PlanModel } from './plan-rows.js';

export async function showPlan(model: PlanModel): Promise<void> {
  const app = render(<PlanView model={model} width={process.stdout.columns || 100} />);
  await app.waitUntilExit();
}
