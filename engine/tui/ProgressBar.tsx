// Owns a text progress bar: filled cells for the done fraction.
import { Text } from 'ink';

export function ProgressBar({ done, total, width }: { done: number; total: number; width: number }) {
  const cells = Math.max(0, Math.min(width, Math.round((done / Math.max(total, 1)) * width)));
  return (
    <Text>
      <Text color="cyan">{'█'.repeat(cells)}</Text>
      <Text dimColor>{'░'.repeat(width - cells)}</Text>
    </Text>
  );
}
