/** How the harness treats a fenced block, as its marker comment says. */
export type BlockMode = 'run' | 'output' | 'skip';

/** A fenced code block of a README, with the marker written right before it. */
export interface ReadmeBlock {
  /** 1-based line of the opening fence, for test names and failures. */
  readonly line: number;
  /** The fence's info string: `sh`, `console`, `ts`, `json`... */
  readonly lang: string;
  /** The lines between the fences. */
  readonly body: string;
  /** `null` when no marker precedes the fence (the harness then fails: every block must say what it is). */
  readonly mode: BlockMode | null;
  /** `before:` of the marker: shell run first, in the block's fresh directory, its output not compared. */
  readonly before: string | null;
  /** `skip:` of the marker: why the block does not run. */
  readonly reason: string | null;
}

/**
 * `<!-- readme-test: run -->`, `<!-- readme-test: output; before: flux-memory demo -->`,
 * `<!-- readme-test: skip: installs the package -->`.
 */
const MARKER = /^<!--\s*readme-test:\s*(run|output|skip)\s*(?:(?::|;)\s*(.*?))?\s*-->$/;

/** Every fenced block of `markdown`, in order, with its marker (the last non-blank line before the fence). */
export function readmeBlocks(markdown: string): ReadmeBlock[] {
  const lines = markdown.split('\n');
  const blocks: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++;
    let previous = start - 1;
    while (previous >= 0 && lines[previous]!.trim() === '') previous--;
    const marker = previous >= 0 ? MARKER.exec(lines[previous]!.trim()) : null;
    const mode = (marker?.[1] as BlockMode | undefined) ?? null;
    const rest = marker?.[2] ?? '';
    blocks.push({
      line: start + 1,
      lang: open[1] ?? '',
      body: lines.slice(start + 1, end).join('\n'),
      mode,
      before: mode !== 'skip' && rest.startsWith('before:') ? rest.slice('before:'.length).trim() : null,
      reason: mode === 'skip' ? rest || null : null,
    });
    i = end;
  }
  return blocks;
}

/** One `$ command` of a console block and the output shown under it (empty: the output is not compared). */
export interface ConsoleStep {
  readonly command: string;
  readonly expected: string;
}

/**
 * The steps of a `console` block: each `$ ` line is a command, the lines up to the next one its output
 * (trailing blank lines dropped: they separate the steps).
 */
export function consoleSteps(body: string): ConsoleStep[] {
  const steps: { command: string; output: string[] }[] = [];
  for (const line of body.split('\n')) {
    if (line.startsWith('$ ')) steps.push({ command: line.slice(2), output: [] });
    else if (steps.length > 0) steps.at(-1)!.output.push(line);
    else throw new Error(`a console block must start with a "$ " command line, not: ${line}`);
  }
  return steps.map(({ command, output }) => {
    while (output.length > 0 && output.at(-1)!.trim() === '') output.pop();
    return { command, expected: output.join('\n') };
  });
}
