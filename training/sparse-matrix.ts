/** Compressed sparse rows over shared memory, so worker threads read one copy of the data. */
export interface CsrMatrix {
  rows: number;
  columns: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

function sharedArray<T extends Int32Array | Float32Array>(
  Type: new (buffer: SharedArrayBuffer) => T,
  length: number,
  bytes: number,
): T {
  return new Type(new SharedArrayBuffer(length * bytes));
}

/** Stacks rows (indices ascending within each row) into one matrix. */
export function csrFromRows(
  rows: Array<{ indices: Int32Array; values: Float32Array }>,
  columns: number,
): CsrMatrix {
  const nnz = rows.reduce((sum, row) => sum + row.indices.length, 0);
  const indptr = sharedArray(Int32Array, rows.length + 1, 4);
  const indices = sharedArray(Int32Array, nnz, 4);
  const values = sharedArray(Float32Array, nnz, 4);
  let at = 0;
  rows.forEach((row, r) => {
    indices.set(row.indices, at);
    values.set(row.values, at);
    at += row.indices.length;
    indptr[r + 1] = at;
  });
  return { rows: rows.length, columns, indptr, indices, values };
}

/** The matrix's rows at the given positions, in that order. */
export function selectRows(matrix: CsrMatrix, rows: ArrayLike<number>): CsrMatrix {
  const picked = Array.from({ length: rows.length }, (_, i) => {
    const r = rows[i]!;
    const start = matrix.indptr[r]!;
    const end = matrix.indptr[r + 1]!;
    return { indices: matrix.indices.subarray(start, end), values: matrix.values.subarray(start, end) };
  });
  return csrFromRows(picked, matrix.columns);
}
