/**
 * How every CLI table (cli-table3) is styled: coloured in a terminal, plain when stdout goes to a
 * file or another program, so `aegis node check > out.txt` or `| grep` read no escape codes.
 * Options only, without cli-table3 itself: commands load it lazily to keep `aegis --help` fast.
 */

export type TableStyle = { style?: { head: string[]; border: string[] } };

/** Spread into `new Table({ head, ...plainWhenPiped() })`. */
export function plainWhenPiped(stream: { isTTY?: boolean } = process.stdout): TableStyle {
  return stream.isTTY ? {} : { style: { head: [], border: [] } };
}
