// gantryd.toml (docs/configuration.md): keys derived from the flags, types,
// errors with their lines, flags over the file, and --print-config's output
// read back as a file giving the same settings.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isInvalidArgument } from '../../../runtime/errdefs/errdefs';
import {
  defaultConfigDir,
  defaultConfigFile,
  keyOf,
  parseConfig,
  printConfig,
  readConfigFile,
  withFileSettings,
} from '../../../runtime/daemon/configFile';

// A subset of `gantry daemon`'s flags, one of each shape.
const OPTIONS = {
  root: { type: 'string' },
  runtime: { type: 'string', default: 'runc' },
  'insecure-registry': { type: 'string', multiple: true, default: [] },
  'registry-mirror': { type: 'string', multiple: true, default: [] },
  'max-concurrent-downloads': { type: 'string', default: '3' },
  'no-new-privileges': { type: 'boolean', default: false },
  cri: { type: 'string', default: 'true' },
  bridge: { type: 'string' },
  config: { type: 'string' },
  'print-config': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

const FILE = '/etc/gantry/gantryd.toml';
const parse = (argv: string[]) => parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false, tokens: true });

function refusal(text: string): string {
  try {
    parseConfig(FILE, text, OPTIONS);
  } catch (e) {
    assert.ok(isInvalidArgument(e), String(e));
    return (e as Error).message;
  }
  assert.fail('accepted');
}

describe('daemon/configFile (gantryd.toml)', () => {
  it('names keys after the flags, plurals for repeatable ones', () => {
    assert.equal(keyOf('max-concurrent-downloads'), 'max_concurrent_downloads');
    assert.equal(keyOf('insecure-registry'), 'insecure_registries');
    assert.equal(keyOf('registry-mirror'), 'registry_mirrors');
    assert.equal(keyOf('cni-bin-dir'), 'cni_bin_dirs');
    assert.equal(keyOf('some-future-flag'), 'some_future_flag');
  });

  it('reads each kind of value into the shape the flags have', () => {
    const settings = parseConfig(
      FILE,
      [
        'root = "/srv/gantry"',
        'insecure_registries = ["r.local:5000"]',
        'registry_mirrors = ["https://mirror.example"]',
        'max_concurrent_downloads = 6',
        'no_new_privileges = true',
        'cri = false',
      ].join('\n'),
      OPTIONS,
    );
    assert.deepEqual(Object.fromEntries(settings), {
      root: '/srv/gantry',
      'insecure-registry': ['r.local:5000'],
      'registry-mirror': ['https://mirror.example'],
      'max-concurrent-downloads': '6',
      'no-new-privileges': true,
      cri: 'false',
    });
  });

  it('refuses unknown keys, wrong types and bad syntax with the file and the line', () => {
    assert.match(
      refusal('root = "/x"\nmax_concurent_downloads = 4\n'),
      /^\/etc\/gantry\/gantryd\.toml:2: unknown key "max_concurent_downloads" \(did you mean "max_concurrent_downloads"\?\)/,
    );
    assert.match(refusal('\nconfig = "/other.toml"\n'), /gantryd\.toml:2: unknown key "config"/, 'the file cannot name another file');
    assert.match(refusal('print_config = true\n'), /gantryd\.toml:1: unknown key "print_config"/);
    assert.match(refusal('root = 5\n'), /gantryd\.toml:1: "root" must be a string, not integer/);
    assert.match(
      refusal('\n\nmax_concurrent_downloads = "6"\n'),
      /gantryd\.toml:3: "max_concurrent_downloads" must be an integer, not string/,
    );
    assert.match(refusal('cri = "yes"\n'), /gantryd\.toml:1: "cri" must be a boolean, not string/);
    assert.match(refusal('no_new_privileges = 1\n'), /gantryd\.toml:1: "no_new_privileges" must be a boolean, not integer/);
    assert.match(
      refusal('registry_mirrors = "https://m"\n'),
      /gantryd\.toml:1: "registry_mirrors" must be an array of strings, not string/,
    );
    assert.match(refusal('insecure_registries = [1]\n'), /"insecure_registries" must be an array of strings, not array/);
    assert.match(refusal('root = "/x"\nroot = "/y"\n'), /^\/etc\/gantry\/gantryd\.toml:2:\d+: /);
    assert.match(refusal('root = "/x\n'), /^\/etc\/gantry\/gantryd\.toml:1:\d+: /);
    assert.match(refusal('[cri]\nsocket = "/x"\n'), /gantryd\.toml:1: unknown key "cri"|"cri" must be a boolean, not table/);
  });

  it('takes each setting from the command line first, then the file, then the default', () => {
    const file = parseConfig(FILE, 'runtime = "crun"\nbridge = "br-file"\nregistry_mirrors = ["https://file"]\ncri = false\n', OPTIONS);
    const v = withFileSettings(parse(['--bridge', 'br-flag', '--registry-mirror', 'https://flag']), file);
    assert.equal(v.runtime, 'crun', 'file over default');
    assert.equal(v.bridge, 'br-flag', 'flag over file');
    assert.deepEqual(v['registry-mirror'], ['https://flag'], 'a repeated flag replaces the list');
    assert.equal(v.cri, 'false');
    assert.equal(v['max-concurrent-downloads'], '3', 'default where neither says');
    assert.equal(withFileSettings(parse(['--cri', 'true']), file).cri, 'true');
  });

  it('a missing default file is no file; a missing --config file is an error', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gcfg-'));
    try {
      assert.equal(readConfigFile(path.join(dir, 'gantryd.toml'), OPTIONS, false), undefined);
      assert.throws(() => readConfigFile(path.join(dir, 'gantryd.toml'), OPTIONS, true), /cannot read the configuration file/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds the file in /etc/gantry as root, else under XDG_CONFIG_HOME', () => {
    assert.equal(defaultConfigFile({}, true), '/etc/gantry/gantryd.toml');
    assert.equal(defaultConfigFile({ XDG_CONFIG_HOME: '/home/u/.cfg' }, false), '/home/u/.cfg/gantry/gantryd.toml');
    assert.equal(defaultConfigDir({}, false), path.join(os.homedir(), '.config', 'gantry'));
  });

  it('--print-config output, read back as the file, gives the same settings', () => {
    const file = parseConfig(
      FILE,
      'root = "/srv/g"\ninsecure_registries = ["a:5000", "b"]\nmax_concurrent_downloads = 7\ncri = false\n',
      OPTIONS,
    );
    const effective = withFileSettings(parse(['--no-new-privileges', '--registry-mirror', 'http://m:5000']), file);
    const printed = printConfig(OPTIONS, effective, FILE);
    assert.match(printed, /^max_concurrent_downloads = 7$/m, 'numbers as numbers');
    assert.match(printed, /^cri = false$/m, 'booleans as booleans');
    assert.match(printed, /^# bridge is not set$/m);
    assert.doesNotMatch(printed, /^(config|print_config|help)\b/m);
    const again = withFileSettings(parse([]), parseConfig('printed.toml', printed, OPTIONS));
    for (const name of Object.keys(OPTIONS)) {
      if (name === 'config' || name === 'print-config' || name === 'help') continue;
      assert.deepEqual(again[name as keyof typeof again], effective[name as keyof typeof effective], name);
    }
  });
});
