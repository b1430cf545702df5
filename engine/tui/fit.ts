// Owns fitting text to the terminal width (one line, an ellipsis when cut).

export function fit(text: string, width: number): string {
  if (width <= 1) return '';
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}
