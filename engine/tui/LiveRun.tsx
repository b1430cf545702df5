// Owns connecting the RunEvent stream to the run view: every event folds into the view's state.
import { useEffect, useState } from 'react';
import type { RunEvent } from '../events/run-event.js';
import { EMPTY_RUN, reduceRun } from './run-state.js';
import { RunView } from './RunView.js';

export type Subscribe = (listener: (event: RunEvent) => void) => () => void;

export function LiveRun({ subscribe, width }: { subscribe: Subscribe; width: number }) {
  const [state, setState] = useState(EMPTY_RUN);
  const [outputs, setOutputs] = useState<string[]>([]);
  useEffect(
    () =>
      subscribe((event) => {
        setState((s) => reduceRun(s, event));
        if (event.kind === 'step-finished' && event.external.length > 0) setOutputs((o) => [...o, ...event.external]);
      }),
    [subscribe],
  );
  return <RunView state={state} width={width} outputs={outputs} />;
}
