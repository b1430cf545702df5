// Owns the layout of a state directory (.strand/ by default): where objects, step records,
// checkpoints, run journals, the lock and the file-digest cache live.
import { join } from 'node:path';

export interface StateLayout {
  root: string;
  objects: string;
  steps: string;
  latest: string;
  checkpoints: string;
  runs: string;
  lock: string;
  fileDigests: string;
}

export function stateLayout(root: string): StateLayout {
  return {
    root,
    objects: join(root, 'objects'),
    steps: join(root, 'steps'),
    latest: join(root, 'latest'),
    checkpoints: join(root, 'checkpoints'),
    runs: join(root, 'runs'),
    lock: join(root, 'lock'),
    fileDigests: join(root, 'file-digests.json'),
  };
}
