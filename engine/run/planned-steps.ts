// Owns the `run-planned` event: each step's wiring, device and plan-time estimate, taken from the
// workflow and its placement before anything runs, so a report can be drawn from the journal alone.
import type { StepPlacementPlan } from '../devices/step-placement-plan.js';
import type { PlannedStep, RunEvent } from '../events/run-event.js';
import type { Workflow } from '../workflow/workflow.js';

export function plannedSteps(workflow: Workflow, plans: ReadonlyMap<string, StepPlacementPlan>, time: string): RunEvent {
  const steps = workflow.steps.map((step): PlannedStep => {
    const wired = Object.entries(step.inputs).map(([port, wire]) => ({ step: wire.step, port }));
    const ordering = step.needs.filter((need) => !wired.some((w) => w.step === need)).map((need) => ({ step: need }));
    const plan = plans.get(step.id);
    const placement = plan?.placement;
    const estimate = plan?.estimate;
    return {
      step: step.id,
      uses: step.uses,
      upstream: [...wired, ...ordering],
      device: placement
        ? {
            label: placement.label,
            kind: placement.kind,
            chips: placement.chips,
            pricePerHour: placement.spot ? placement.pricePerHour.spot : placement.pricePerHour.onDemand,
          }
        : { label: 'local cpu', kind: 'cpu', chips: 1, pricePerHour: 0 },
      ...(estimate
        ? {
            estimate: {
              ...(estimate.secondsPerSequence !== undefined ? { secondsPerSequence: estimate.secondsPerSequence } : {}),
              ...(estimate.memory.total !== undefined ? { memoryBytesPerDevice: estimate.memory.total } : {}),
              memoryLimitBytesPerDevice: estimate.memory.limit,
            },
          }
        : {}),
    };
  });
  return { kind: 'run-planned', steps, time };
}
