/**
 * Layer names measured in the table's font: a long name keeps its start and end (the full name
 * is the cell's title). Measured once per width, name and font.
 */
import { shortenMiddle } from './tableLayout';

const measureCanvas = document.createElement('canvas').getContext('2d');
let measureFont = '';
const fitted = new Map<string, string>();

/** `name` shortened to fit the name column; `cell` is its header cell, whose width and font the rows share. */
export function fitName(cell: HTMLElement, name: string, edited: boolean): string {
  const style = getComputedStyle(cell);
  // Padding on both sides, and the edited marker ('● ') before the name.
  const room = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - (edited ? 14 : 0) - 2;
  if (!measureCanvas || room <= 0) return name;
  const font = `${style.fontSize} ${style.fontFamily}`;
  if (font !== measureFont) {
    measureFont = font;
    measureCanvas.font = font;
    fitted.clear();
  }
  const key = `${Math.floor(room)}\u0000${name}`;
  let text = fitted.get(key);
  if (text === undefined) {
    text = shortenMiddle(name, room, (s) => measureCanvas.measureText(s).width);
    if (fitted.size > 20_000) fitted.clear();
    fitted.set(key, text);
  }
  return text;
}
