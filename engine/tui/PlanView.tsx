// Owns the interactive plan view: the steps in order with status, reason and placement; arrow keys
// (or j/k) move, Enter shows the selected step's details, q quits.
import { Box, Text, useApp, useInput } from 'ink';
import { useState } from 'react';
import type { PlanModel, PlanRow } from './plan-rows.js';
import { fit } from './fit.js';

const STATUS_COLOR: Record<PlanRow['status'], string> = { cached: 'green', 'will run': 'yellow', blocked: 'gray', invalid: 'red' };

function MemoryBar({ used, limit }: { used: number; limit: number }) {
  const cells = 10;
  const filled = Math.min(cells, Math.round((used / limit) * cells));
  const color = used > limit ? 'red' : used > 0.8 * limit ? 'yellow' : 'green';
  return (
    <Text>
      {' mem '}
      <Text color={color}>{'█'.repeat(filled)}</Text>
      <Text dimColor>{'░'.repeat(cells - filled)}</Text>
      {` ${(used / 2 ** 30).toFixed(1)}/${(limit / 2 ** 30).toFixed(1)} GiB`}
    </Text>
  );
}

export function PlanView({ model, width }: { model: PlanModel; width: number }) {
  const { exit } = useApp();
  const [selected, setSelected] = useState(0);
  const [open, setOpen] = useState(false);
  useInput((input, key) => {
    if (input === 'q') exit();
    else if (key.upArrow || input === 'k') setSelected((s) => Math.max(0, s - 1));
    else if (key.downArrow || input === 'j') setSelected((s) => Math.min(model.rows.length - 1, s + 1));
    else if (key.return) setOpen((o) => !o);
    else if (key.escape) setOpen(false);
  });
  const stepWidth = Math.max(4, ...model.rows.map((r) => r.step.length));
  const usesWidth = Math.max(4, ...model.rows.map((r) => r.uses.length));
  const current = model.rows[selected];
  return (
    <Box flexDirection="column">
      <Text bold>{fit(`plan: ${model.name} (${model.file})`, width)}</Text>
      {model.rows.map((row, i) => (
        <Text key={row.step} inverse={i === selected}>
          <Text color={STATUS_COLOR[row.status]}>
            {i === selected ? '›' : ' '} {row.status.padEnd(8)}
          </Text>
          {fit(`  ${row.step.padEnd(stepWidth)}  ${row.uses.padEnd(usesWidth)}  ${row.placement.padEnd(9)}  ${row.why}`, width - 11)}
          {row.memory ? <MemoryBar used={row.memory.used} limit={row.memory.limit} /> : null}
          {row.estimate ? <Text dimColor>{` ${row.estimate}`}</Text> : null}
        </Text>
      ))}
      <Text bold>{model.totals}</Text>
      {open && current ? (
        <Box flexDirection="column" borderStyle="single" paddingX={1}>
          <Text bold>{fit(`${current.step} (${current.uses})`, width - 4)}</Text>
          {current.details.map((d, i) => (
            // A reason wraps (ink's default) rather than being cut: it is the one place its full text shows.
            <Text key={`${i}:${d.label}`}>{d.label === 'why' ? `${d.label}: ${d.value}` : fit(`${d.label}: ${d.value}`, width - 4)}</Text>
          ))}
        </Box>
      ) : null}
      <Text dimColor>↑/↓ move · Enter details · q quit</Text>
    </Box>
  );
}
