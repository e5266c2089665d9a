/** Per output: the task its metrics fit, why, and each figure with its 95% interval (text for the CLI and the Markdown report). */
import { figureText } from '../eval/budgets';
import type { TaskOutput } from '../eval/taskMetrics';

export function taskFigures(t: TaskOutput): string {
  return t.figures
    .map((f) => f.unmeasured ? `${f.name}: ${f.unmeasured}` : `${f.name} ${figureText(f.value, f.scale)}${f.ci95 ? ` [${figureText(f.ci95[0], f.scale)}, ${figureText(f.ci95[1], f.scale)}]` : ''}`)
    .join(', ');
}

/** Two lines per output: "NAME: TASK, because WHY" and its figures. */
export function tasksText(tasks: readonly TaskOutput[]): string[] {
  return tasks.flatMap((t) => [`${t.name}: ${t.task} (${t.why})`, `  ${taskFigures(t)}`]);
}
