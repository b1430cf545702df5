import { describe, expect, it } from 'vitest';
import { arrow } from '../../engine/util/arrow.js';
import { readText, textColumn } from '../../steps/arrow-columns.js';

const TEXTS = ['', 'ACGT'.repeat(200), 'héllo', 'ü€𝄞', 'KY102938.1#0'];

function ipc(column: ReturnType<typeof textColumn>): Uint8Array {
  return arrow.tableToIPC(new arrow.Table({ id: column, n: arrow.vectorFromArray(TEXTS.map((_, i) => i)) }), 'file');
}

describe('text columns', () => {
  it("writes the same IPC bytes as Arrow's builder (the store keys shards by those bytes)", () => {
    expect(ipc(textColumn(TEXTS))).toEqual(ipc(arrow.vectorFromArray(TEXTS, new arrow.Utf8())));
    expect(ipc(textColumn([null, 'a', null, 'b', 'c']))).toEqual(ipc(arrow.vectorFromArray([null, 'a', null, 'b', 'c'], new arrow.Utf8())));
  });

  it('reads back every value, of a whole table, a slice, and a column with nulls', () => {
    const table = arrow.tableFromIPC(ipc(textColumn(TEXTS)));
    expect(readText(table, 'id')).toEqual(TEXTS);
    expect(readText(table.slice(1, 4), 'id')).toEqual(TEXTS.slice(1, 4));
    const nulls = arrow.tableFromIPC(arrow.tableToIPC(new arrow.Table({ id: textColumn(['a', null, 'é']) })));
    expect(readText(nulls, 'id')).toEqual(['a', null, 'é']);
  });
});
