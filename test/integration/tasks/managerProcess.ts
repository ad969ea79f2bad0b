// A stand-in for gantryd, run as its own node process by recovery.test.ts:
// creates and starts one task (options as JSON in argv[2]), prints
// `{"pid","monitorPid"}` and then idles until it is killed — so the test can
// kill a real manager while its task runs.
import { background } from '../../../runtime/context';
import { createTask } from '../../../runtime/tasks/conmon';
import { Runc } from '../../../runtime/tasks/runc';
import type { CreateTaskOptions } from '../../../runtime/tasks/tasks';

async function main(): Promise<void> {
  const opts = JSON.parse(process.argv[2]) as CreateTaskOptions;
  const task = await createTask(background(), opts);
  await new Runc({ binary: opts.runcPath, root: opts.runcRoot }).start(opts.id);
  process.stdout.write(JSON.stringify(task) + '\n');
  setInterval(() => undefined, 60_000);
}

main().catch((e: unknown) => {
  process.stderr.write(`${String(e)}\n`);
  process.exit(1);
});
