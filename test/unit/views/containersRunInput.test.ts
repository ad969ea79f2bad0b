// What Run… accepts: the argv splitter (sh word splitting, no expansion), env lists, names.
import * as assert from 'node:assert/strict';
import { ArgvError, nameProblem, parseEnv, parsePorts, splitArgs } from '../../../src/commands/containers/runInput';
import { isRestartPolicyName } from '../../../runtime/options';

describe('Run… input', () => {
  describe('splitArgs', () => {
    it('splits on blanks, collapsing runs of them', () => {
      assert.deepEqual(splitArgs('  sleep   60\t\n'), ['sleep', '60']);
      assert.deepEqual(splitArgs(''), []);
      assert.deepEqual(splitArgs('   '), []);
    });

    it('keeps single-quoted text literally', () => {
      assert.deepEqual(splitArgs(`sh -c 'echo "$HOME" \\n; exit 3'`), ['sh', '-c', 'echo "$HOME" \\n; exit 3']);
    });

    it('honours the escapes of double quotes and nothing else', () => {
      assert.deepEqual(splitArgs(String.raw`echo "a \"b\" \\ \$x \`y\` \n"`), ['echo', 'a "b" \\ $x `y` \\n']);
    });

    it('joins quoted and unquoted parts that touch into one word', () => {
      assert.deepEqual(splitArgs(`a"b c"d 'e'f`), ['ab cd', 'ef']);
    });

    it('makes empty words from empty quotes', () => {
      assert.deepEqual(splitArgs(`printf '%s|' '' "" x`), ['printf', '%s|', '', '', 'x']);
    });

    it('takes a backslash outside quotes as an escape, and backslash-newline as a line join', () => {
      assert.deepEqual(splitArgs(String.raw`a\ b c\'d`), ['a b', "c'd"]);
      assert.deepEqual(splitArgs('a \\\nb'), ['a', 'b']);
    });

    it('expands nothing: variables, globs, operators stay as typed', () => {
      assert.deepEqual(splitArgs('echo $HOME *.txt ~ ; rm -rf / && x | y'), [
        'echo',
        '$HOME',
        '*.txt',
        '~',
        ';',
        'rm',
        '-rf',
        '/',
        '&&',
        'x',
        '|',
        'y',
      ]);
    });

    it('refuses unclosed quotes and a trailing backslash', () => {
      assert.throws(() => splitArgs(`echo 'oops`), ArgvError);
      assert.throws(() => splitArgs('echo "oops'), /unclosed " at column 6/);
      assert.throws(() => splitArgs('echo "a\\"'), ArgvError);
      assert.throws(() => splitArgs('echo \\'), /trailing/);
    });

    it('splits on commas only when asked, and never inside quotes', () => {
      assert.deepEqual(splitArgs('a,b c'), ['a,b', 'c']);
      assert.deepEqual(splitArgs(`a,b, c,'d,e'`, { commas: true }), ['a', 'b', 'c', 'd,e']);
    });
  });

  describe('parseEnv', () => {
    it('takes KEY=VALUE words separated by blanks or commas', () => {
      assert.deepEqual(parseEnv('A=1, B=2 C='), ['A=1', 'B=2', 'C=']);
      assert.deepEqual(parseEnv(`GREETING="hello world",LIST='a,b' X=a=b`), ['GREETING=hello world', 'LIST=a,b', 'X=a=b']);
      assert.deepEqual(parseEnv(''), []);
    });

    it('refuses words that are not KEY=VALUE, naming them', () => {
      assert.throws(() => parseEnv('A=1 B'), /"B" is not KEY=VALUE/);
      assert.throws(() => parseEnv('LIST=a,b'), /"b" is not KEY=VALUE/);
      assert.throws(() => parseEnv('=x'), ArgvError);
      assert.throws(() => parseEnv('1A=x'), ArgvError);
    });
  });

  it('accepts Docker container names, or none', () => {
    for (const ok of ['', 'web', 'web-1', 'a.b_c', '9lives']) assert.equal(nameProblem(ok), undefined, ok);
    for (const bad of ['a', '-web', '/web', 'we b', 'wé', 'a/b']) assert.ok(nameProblem(bad), bad);
  });

  it('knows the restart policies', () => {
    for (const p of ['no', 'always', 'on-failure', 'unless-stopped']) assert.ok(isRestartPolicyName(p));
    assert.ok(!isRestartPolicyName('sometimes'));
  });
});

describe('Run… ports to publish', () => {
  it('takes -p values separated by blanks or commas, as typed', () => {
    assert.deepEqual(parsePorts('8080:80, 127.0.0.1::53/udp 9000'), ['8080:80', '127.0.0.1::53/udp', '9000']);
    assert.deepEqual(parsePorts('[::1]:8443:443'), ['[::1]:8443:443']);
    assert.deepEqual(parsePorts('  '), []);
  });

  it("refuses what the daemon's -p parser refuses, quoting the value", () => {
    assert.throws(() => parsePorts('8080:80, 80:http'), /invalid port specification "80:http"/);
    assert.throws(() => parsePorts('70000'), /outside 1-65535/);
    assert.throws(() => parsePorts('80/sctp'), /not tcp or udp/);
  });
});
