// runtimeMessage: the human part of runc's stderr, as runc prints it to us
// (--log-format json) and as conmon quotes it from `runc create` (logrus text
// or JSON), without the `time=… level=error msg=` wrapper.
import { strict as assert } from 'node:assert';
import { runtimeMessage } from '../../../runtime/tasks/runc';

describe('tasks: runtimeMessage', () => {
  it("takes msg from runc's JSON log lines", () => {
    assert.equal(
      runtimeMessage('{"level":"error","msg":"container does not exist","time":"2026-11-28T15:52:39Z"}\n'),
      'container does not exist',
    );
  });

  it('unquotes msg from logrus text, as conmon relays it', () => {
    const stderr =
      'time="2026-11-28T12:33:46Z" level=error msg="runc create failed: unable to start container process: exec: \\"/bin/nonexistent\\": stat /bin/nonexistent: no such file or directory"\n';
    assert.equal(
      runtimeMessage(stderr),
      'runc create failed: unable to start container process: exec: "/bin/nonexistent": stat /bin/nonexistent: no such file or directory',
    );
    assert.equal(runtimeMessage('time="x" level=error msg=plain\n'), 'plain');
  });

  it('keeps only error lines when there are any, and joins several', () => {
    const stderr = [
      '{"level":"warning","msg":"something minor","time":"t"}',
      '{"level":"error","msg":"first","time":"t"}',
      '{"level":"fatal","msg":"second","time":"t"}',
    ].join('\n');
    assert.equal(runtimeMessage(stderr), 'first; second');
  });

  it('returns other text trimmed, and nothing for nothing', () => {
    assert.equal(runtimeMessage('  some panic text\n'), 'some panic text');
    assert.equal(runtimeMessage(''), '');
  });
});
