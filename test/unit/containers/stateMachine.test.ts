// The container state table, every state × every event: allowed cells give
// the expected next state and action; refused ones throw the expected kind,
// with a message naming the container and both states.
import { strict as assert } from 'node:assert';
import { kindOf } from '../../../runtime/errdefs/errdefs';
import {
  allows,
  EVENTS,
  PHASES,
  phaseWord,
  TARGET,
  transition,
  type ContainerEvent,
  type ContainerPhase,
} from '../../../runtime/containers/stateMachine';

// "next:action" for an allowed cell; "!Kind" for a refusal. Written out here
// on purpose, not derived from the table: a change to the table must show up
// as a change to this test.
const EXPECTED: Record<ContainerPhase, Record<ContainerEvent, string>> = {
  gone: {
    create: 'created:create',
    start: '!NotFound',
    stop: '!NotFound',
    kill: '!NotFound',
    pause: '!NotFound',
    unpause: '!NotFound',
    restart: '!NotFound',
    exit: 'gone:none',
    'exit-restart': 'gone:none',
    'policy-restart': 'gone:none',
    remove: '!NotFound',
    'remove-force': '!NotFound',
    prune: '!NotFound',
    'remove-failed': '!NotFound',
    health: 'gone:none',
    adopt: '!NotFound',
    'adopt-paused': '!NotFound',
    'daemon-start': 'gone:none',
  },
  created: {
    create: '!FailedPrecondition',
    start: 'running:launch',
    stop: 'created:none',
    kill: '!FailedPrecondition',
    pause: '!FailedPrecondition',
    unpause: '!FailedPrecondition',
    restart: 'running:stop-and-start',
    exit: 'created:none',
    'exit-restart': 'created:none',
    'policy-restart': 'created:none',
    remove: 'gone:destroy',
    'remove-force': 'gone:destroy',
    prune: 'gone:destroy',
    'remove-failed': 'dead:mark-dead',
    health: 'created:none',
    adopt: 'running:adopt',
    'adopt-paused': 'paused:adopt',
    'daemon-start': 'created:none',
  },
  running: {
    create: '!FailedPrecondition',
    start: 'running:none',
    stop: 'exited:terminate',
    kill: 'running:signal',
    pause: 'paused:freeze',
    unpause: '!FailedPrecondition',
    restart: 'running:stop-and-start',
    exit: 'exited:record-exit',
    'exit-restart': 'restarting:record-exit-and-schedule',
    'policy-restart': 'running:none',
    remove: '!Conflict',
    'remove-force': 'gone:kill-and-destroy',
    prune: '!Conflict',
    'remove-failed': '!FailedPrecondition',
    health: 'running:record-health',
    adopt: 'running:adopt',
    'adopt-paused': 'paused:adopt',
    'daemon-start': 'running:none',
  },
  paused: {
    create: '!FailedPrecondition',
    start: '!FailedPrecondition',
    stop: 'exited:thaw-and-terminate',
    kill: 'running:thaw-and-signal',
    pause: '!FailedPrecondition',
    unpause: 'running:thaw',
    restart: 'running:stop-and-start',
    exit: 'exited:record-exit',
    'exit-restart': 'restarting:record-exit-and-schedule',
    'policy-restart': 'paused:none',
    remove: '!Conflict',
    'remove-force': 'gone:kill-and-destroy',
    prune: '!Conflict',
    'remove-failed': '!FailedPrecondition',
    health: 'paused:none',
    adopt: 'running:adopt',
    'adopt-paused': 'paused:adopt',
    'daemon-start': 'paused:none',
  },
  restarting: {
    create: '!FailedPrecondition',
    start: 'running:cancel-restart-and-launch',
    stop: 'exited:cancel-restart',
    kill: '!FailedPrecondition',
    pause: '!FailedPrecondition',
    unpause: '!FailedPrecondition',
    restart: 'running:stop-and-start',
    exit: 'restarting:none',
    'exit-restart': 'restarting:none',
    'policy-restart': 'running:relaunch',
    remove: '!Conflict',
    'remove-force': 'gone:cancel-restart-and-destroy',
    prune: '!Conflict',
    'remove-failed': 'dead:mark-dead',
    health: 'restarting:none',
    adopt: 'running:adopt',
    'adopt-paused': 'paused:adopt',
    'daemon-start': 'restarting:schedule-restart',
  },
  exited: {
    create: '!FailedPrecondition',
    start: 'running:launch',
    stop: 'exited:none',
    kill: '!FailedPrecondition',
    pause: '!FailedPrecondition',
    unpause: '!FailedPrecondition',
    restart: 'running:stop-and-start',
    exit: 'exited:none',
    'exit-restart': 'exited:none',
    'policy-restart': 'exited:none',
    remove: 'gone:destroy',
    'remove-force': 'gone:destroy',
    prune: 'gone:destroy',
    'remove-failed': 'dead:mark-dead',
    health: 'exited:none',
    adopt: 'running:adopt',
    'adopt-paused': 'paused:adopt',
    'daemon-start': 'running:start-by-policy',
  },
  dead: {
    create: '!FailedPrecondition',
    start: '!FailedPrecondition',
    stop: 'dead:none',
    kill: '!FailedPrecondition',
    pause: '!FailedPrecondition',
    unpause: '!FailedPrecondition',
    restart: '!FailedPrecondition',
    exit: 'dead:none',
    'exit-restart': 'dead:none',
    'policy-restart': 'dead:none',
    remove: 'gone:destroy',
    'remove-force': 'gone:destroy',
    prune: 'gone:destroy',
    'remove-failed': 'dead:mark-dead',
    health: 'dead:none',
    adopt: 'dead:none',
    'adopt-paused': 'dead:none',
    'daemon-start': 'dead:none',
  },
};

describe('container state table', () => {
  it('covers every state and every event', () => {
    assert.deepEqual(Object.keys(EXPECTED).sort(), [...PHASES].sort());
    for (const phase of PHASES) assert.deepEqual(Object.keys(EXPECTED[phase]).sort(), [...EVENTS].sort(), phase);
  });

  for (const from of PHASES) {
    for (const event of EVENTS) {
      const expected = EXPECTED[from][event];
      if (expected.startsWith('!')) {
        it(`refuses ${event} when ${from}, naming both states`, () => {
          assert.equal(allows(from, event), false);
          assert.throws(
            () => transition('web', from, event),
            (e: unknown) => {
              assert.equal(kindOf(e), expected.slice(1));
              const message = (e as Error).message;
              assert.match(message, /web/, message);
              const states =
                from === TARGET[event] ? `(it is ${phaseWord(from)})` : `(from ${phaseWord(from)} to ${phaseWord(TARGET[event])})`;
              assert.ok(message.endsWith(` ${states}`), message);
              return true;
            },
          );
        });
      } else {
        const [next, action] = expected.split(':');
        it(`${event} when ${from} → ${next} (${action})`, () => {
          assert.equal(allows(from, event), true);
          assert.deepEqual(transition('web', from, event), { from, event, next, action });
        });
      }
    }
  }

  it('keeps the words clients and tests rely on', () => {
    const message = (from: ContainerPhase, event: ContainerEvent) => {
      try {
        transition('web', from, event);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error(`${event} from ${from} was allowed`);
    };
    assert.equal(message('exited', 'kill'), 'container web is not running: cannot kill it (it is exited)');
    assert.equal(message('exited', 'pause'), 'container web is not running: cannot pause it (from exited to paused)');
    assert.match(message('exited', 'pause'), /^container web is not running/);
    assert.match(message('paused', 'pause'), /^container web is already paused/);
    assert.match(message('running', 'unpause'), /^container web is not paused/);
    assert.match(message('restarting', 'pause'), /^container web is restarting, wait until the container is running/);
    assert.equal(
      message('running', 'remove'),
      'cannot remove container "/web": container is running: stop the container before removing or force remove (from running to removed)',
    );
    assert.match(message('dead', 'start'), /cannot start container web: it is dead/);
  });
});
