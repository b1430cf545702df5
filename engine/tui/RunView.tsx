// Owns the live run view: a line per step (a progress bar with rates and ETA while it runs; cached,
// done, failed when not), the last log lines, and a summary when the run ends.
import { Box, Text } from 'ink';
import type { RunState, StepProgress } from './run-state.js';
import { ProgressBar } from './ProgressBar.js';
import { fit } from './fit.js';

const MARK: Record<StepProgress['status'], { text: string; color: string }> = {
  waiting: { text: 'waiting', color: 'gray' },
  running: { text: 'running', color: 'cyan' },
  cached: { text: 'cached', color: 'green' },
  done: { text: 'done', color: 'green' },
  failed: { text: 'FAILED', color: 'red' },
  interrupted: { text: 'stopped', color: 'yellow' },
  blocked: { text: 'blocked', color: 'gray' },
};

function rateText(s: StepProgress): string {
  const values = Object.entries(s.values ?? {}).map(([name, v]) => `${name} ${Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(4)}`);
  const parts = [
    ...values,
    ...Object.entries(s.rates)
      .filter(([unit]) => unit !== 'shards')
      .map(([unit, rate]) => `${rate >= 100 ? rate.toFixed(0) : rate.toFixed(1)} ${unit}/s`),
  ];
  if (s.etaSeconds !== undefined) parts.push(`ETA ${Math.ceil(s.etaSeconds)}s`);
  return parts.join('  ');
}

function StepLine({ s, width, stepWidth }: { s: StepProgress; width: number; stepWidth: number }) {
  const mark = MARK[s.status];
  const head = `${mark.text.padEnd(8)} ${s.step.padEnd(stepWidth)} `;
  if (s.status === 'running' && s.total !== undefined) {
    return (
      <Text>
        <Text color={mark.color}>{head}</Text>
        <ProgressBar done={s.done} total={s.total} width={20} />
        <Text>{fit(` ${s.done}/${s.total} ${s.unit}  ${rateText(s)}`, Math.max(0, width - head.length - 20))}</Text>
      </Text>
    );
  }
  const tail = s.status === 'done' && s.durationMs !== undefined ? `${(s.durationMs / 1000).toFixed(1)}s` : (s.note ?? '');
  return (
    <Text>
      <Text color={mark.color}>{head}</Text>
      <Text dimColor={s.status !== 'failed'}>{fit(tail, Math.max(0, width - head.length))}</Text>
    </Text>
  );
}

export function RunView({ state, width, outputs }: { state: RunState; width: number; outputs: string[] }) {
  const stepWidth = Math.max(4, ...state.steps.map((s) => s.step.length));
  const cached = state.steps.filter((s) => s.status === 'cached').length;
  const ran = state.steps.filter((s) => s.status === 'done').length;
  return (
    <Box flexDirection="column">
      <Text bold>{fit(`run ${state.runId}: ${state.workflow}`, width)}</Text>
      {state.steps.map((s) => (
        <StepLine key={s.step} s={s} width={width} stepWidth={stepWidth} />
      ))}
      {state.logs.length > 0 ? (
        <Box flexDirection="column" marginTop={1}>
          {state.logs.map((line, i) => (
            <Text key={i} dimColor>
              {fit(line, width)}
            </Text>
          ))}
        </Box>
      ) : null}
      {state.finished ? (
        <Box flexDirection="column" marginTop={1}>
          <Text bold color={state.finished.status === 'ok' ? 'green' : 'red'}>
            {`${state.finished.status} in ${(state.finished.durationMs / 1000).toFixed(1)}s: ${ran} ran, ${cached} cached`}
          </Text>
          {outputs.map((o) => (
            <Text key={o}>{fit(`output: ${o}`, width)}</Text>
          ))}
          {state.report !== undefined ? <Text>{fit(`report: ${state.report}`, width)}</Text> : null}
        </Box>
      ) : null}
    </Box>
  );
}
