import { strict as assert } from 'node:assert';
import {
  defaultHeader,
  goMap,
  parseRecordFormat,
  renderRecords,
  tabAlign,
  Template,
  TemplateError,
} from '../../../runtime/presentation/template';

const run = (source: string, data: unknown) => Template.parse(source).execute(data);

function throwsTemplate(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TemplateError, `expected a TemplateError, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('presentation: Go templates (--format)', () => {
  const container = {
    Id: 'abc123',
    Name: '/web',
    State: { Status: 'exited', Running: false, ExitCode: 3, Pid: 0, Health: null },
    Config: {
      Image: 'busybox',
      Env: ['PATH=/bin', 'A=1'],
      Cmd: ['sleep', '10'],
      Labels: goMap({ 'com.example': 'x', b: 'y' }),
      Entrypoint: null,
    },
    NetworkSettings: { Networks: goMap({ bridge: { IPAddress: '10.88.0.2' } }) },
    RestartCount: 0,
    Mounts: [],
  };

  it('prints text, fields and nested field paths', () => {
    assert.equal(run('id={{.Id}} name={{.Name}}', container), 'id=abc123 name=/web');
    assert.equal(run('{{.State.ExitCode}}', container), '3');
    assert.equal(run('{{.State.Running}}', container), 'false');
    assert.equal(run('{{.Config.Image}}', container), 'busybox');
    assert.equal(run('plain text', container), 'plain text');
  });

  it("prints values as Go's %v: slices in brackets, maps sorted, nil as <nil>, a missing map key as <no value>", () => {
    assert.equal(run('{{.Config.Env}}', container), '[PATH=/bin A=1]');
    assert.equal(run('{{.Config.Labels}}', container), 'map[b:y com.example:x]');
    assert.equal(run('{{.State.Health}}', container), '<nil>');
    assert.equal(run('{{.Config.Labels.missing}}', container), '<no value>');
    assert.equal(run('{{.Mounts}}', container), '[]');
    assert.equal(run('{{.NetworkSettings.Networks.bridge.IPAddress}}', container), '10.88.0.2');
  });

  it('json prints compact JSON with map keys sorted, and nil as null', () => {
    assert.deepEqual(JSON.parse(run('{{json .Config}}', container)), JSON.parse(JSON.stringify(container.Config)));
    assert.equal(run('{{json .Config.Labels}}', container), '{"b":"y","com.example":"x"}');
    assert.equal(run('{{json .State.Health}}', container), 'null');
    assert.equal(run('{{json .Name}}', container), '"/web"');
    assert.equal(run('{{.Config.Cmd | json}}', container), '["sleep","10"]');
    assert.equal(run('{{json "<a&b>"}}', {}), '"<a&b>"');
  });

  it('range rebinds dot, binds $i, $e, ranges maps in key order and runs else when empty', () => {
    assert.equal(run('{{range .Config.Env}}[{{.}}]{{end}}', container), '[PATH=/bin][A=1]');
    assert.equal(run('{{range $i, $e := .Config.Env}}{{$i}}={{$e}};{{end}}', container), '0=PATH=/bin;1=A=1;');
    assert.equal(run('{{range $e := .Config.Cmd}}<{{$e}}>{{end}}', container), '<sleep><10>');
    assert.equal(run('{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}} {{end}}', container), 'b:y com.example:x ');
    assert.equal(run('{{range $net, $s := .NetworkSettings.Networks}}{{$net}} {{$s.IPAddress}}{{end}}', container), 'bridge 10.88.0.2');
    assert.equal(run('{{range .Mounts}}x{{else}}none{{end}}', container), 'none');
    assert.equal(run('{{range .Config.Entrypoint}}x{{else}}nil{{end}}', container), 'nil');
    assert.equal(run('{{range .Config.Env}}{{$.Name}}{{end}}', container), '/web/web');
  });

  it('if / else if / else and with', () => {
    const t = '{{if .State.Running}}up{{else if eq .State.ExitCode 3}}three{{else}}other{{end}}';
    assert.equal(run(t, container), 'three');
    assert.equal(run(t, { State: { Running: true, ExitCode: 0 } }), 'up');
    assert.equal(run(t, { State: { Running: false, ExitCode: 1 } }), 'other');
    assert.equal(run('{{if .Mounts}}y{{else}}n{{end}}', container), 'n');
    assert.equal(run('{{if .Config.Labels}}y{{end}}', container), 'y');
    assert.equal(run('{{with .State}}{{.Status}}{{end}}', container), 'exited');
    assert.equal(run('{{with .State.Health}}{{.Status}}{{else}}no health{{end}}', container), 'no health');
    assert.equal(run('{{if and .Config (not .State.Running)}}stopped{{end}}', container), 'stopped');
    assert.equal(run('{{if or .State.Running .Config.Image}}{{end}}', container), '');
  });

  it('index, join, split, lower, upper, title, pad, truncate, len, slice', () => {
    assert.equal(run('{{index .Config.Labels "com.example"}}', container), 'x');
    assert.equal(run('{{index .Config.Labels "nope"}}', container), '');
    assert.equal(run('{{index .Config.Env 1}}', container), 'A=1');
    assert.equal(run('{{join .Config.Cmd ","}}', container), 'sleep,10');
    assert.equal(run('{{join (split "a:b:c" ":") "-"}}', {}), 'a-b-c');
    assert.equal(run('{{lower "ABC"}} {{upper .Config.Image}} {{title "hello big world"}}', container), 'abc BUSYBOX Hello Big World');
    assert.equal(run('{{.Config.Image | upper}}', container), 'BUSYBOX');
    assert.equal(run('[{{pad "x" 1 2}}]', {}), '[ x  ]');
    assert.equal(run('{{truncate .Id 3}}', container), 'abc');
    assert.equal(run('{{len .Config.Env}} {{len .Config.Labels}} {{len .Name}}', container), '2 2 4');
    assert.equal(run('{{slice .Id 1 3}}', container), 'bc');
  });

  it('printf, print and println as fmt does', () => {
    assert.equal(run('{{printf "%s is %d" .Config.Image .State.ExitCode}}', container), 'busybox is 3');
    assert.equal(
      run('{{printf "%-6s|%5d|%q|%v|%t|%x|%.2f|%%" "ab" 42 "q" .Config.Env true 255 1.5}}', container),
      'ab    |   42|"q"|[PATH=/bin A=1]|true|ff|1.50|%',
    );
    assert.equal(run('{{printf "%s"}}', {}), '%!s(MISSING)');
    assert.equal(run('{{print "a" 1 2 "b"}}', {}), 'a1 2b');
    assert.equal(run('{{println .Config.Image .State.ExitCode}}', container), 'busybox 3\n');
    assert.equal(run('{{.Name | printf "%s!"}}', container), '/web!');
  });

  it('variables, comparisons, literals and parentheses', () => {
    assert.equal(run('{{$n := .Name}}{{$n}}{{$n = "x"}}{{$n}}', container), '/webx');
    assert.equal(run('{{eq .State.Status "running" "exited"}} {{ne 1 2}} {{lt 1 2}} {{ge 2 3}}', container), 'true true true false');
    assert.equal(run('{{true}} {{1.5}} {{"s"}} {{`raw\\t`}}', {}), 'true 1.5 s raw\\t');
    assert.equal(run('{{(index .Config.Env 0) | lower}}', container), 'path=/bin');
    assert.equal(run('{{/* a comment */}}ok', {}), 'ok');
  });

  it('trims space around {{- and -}}', () => {
    assert.equal(run('a  {{- .Id -}}  b', container), 'aabc123b');
    assert.equal(run('{{range .Config.Cmd -}}\n  {{.}}\n{{- end}}', container), 'sleep10');
  });

  it('calls a field that is a method with its arguments ({{.Label "key"}})', () => {
    const record = {
      Names: 'web',
      Label(this: { labels: Record<string, string> }, key: string) {
        return this.labels[key] ?? '';
      },
      labels: { app: 'shop' },
    };
    assert.equal(run('{{.Label "app"}}/{{.Label "none"}}', record), 'shop/');
  });

  it('an unknown field fails naming the field and its position', () => {
    throwsTemplate(() => run('{{.Nope}}', container), /^template: :1:3: executing "" at <\.Nope>: can't evaluate field Nope/);
    throwsTemplate(() => run('x {{.State.Nope}}', container), /:1:5: .*<\.State\.Nope>: can't evaluate field Nope/);
    throwsTemplate(() => run('{{range .Config.Env}}{{.Foo}}{{end}}', container), /<\.Foo>: can't evaluate field Foo in type string/);
    throwsTemplate(() => run('{{.State.Health.Status}}', container), /<\.State\.Health\.Status>: nil pointer evaluating/);
    throwsTemplate(() => run('{{$x.Id}}', container), /undefined variable: \$x/);
    throwsTemplate(() => run('{{nofunc .Id}}', container), /function "nofunc" not defined/);
    throwsTemplate(() => run('{{join .Id ","}}', container), /error calling join: join wants a list/);
    throwsTemplate(() => run('{{.Id "arg"}}', container), /cannot be invoked as function/);
  });

  it('a syntax error fails at parse time with its position', () => {
    throwsTemplate(() => Template.parse('{{.Id'), /^template: :1:1: unclosed action/);
    throwsTemplate(() => Template.parse('{{if .Id}}x'), /^template: :1:3: unexpected EOF: \{\{if\}\} has no \{\{end\}\}/);
    throwsTemplate(() => Template.parse('{{end}}'), /unexpected \{\{end\}\}/);
    throwsTemplate(() => Template.parse('{{else}}'), /unexpected \{\{else\}\}/);
    throwsTemplate(() => Template.parse('{{}}'), /missing value for command/);
    throwsTemplate(() => Template.parse('a\n{{.Id | }}'), /^template: :2:/);
    throwsTemplate(() => Template.parse('{{"open}}'), /unclosed action|unterminated/);
    throwsTemplate(() => Template.parse('{{define "x"}}{{end}}'), /not supported/);
    throwsTemplate(() => Template.parse('{{.Id @}}'), /unexpected "@"/);
  });

  it('parses a template once and executes it for many records', () => {
    const t = Template.parse('{{.Names}} {{.Status}}');
    assert.deepEqual(
      [
        { Names: 'a', Status: 'Up 1 second' },
        { Names: 'b', Status: 'Exited (3) 2 minutes ago' },
      ].map((r) => t.execute(r)),
      ['a Up 1 second', 'b Exited (3) 2 minutes ago'],
    );
  });
});

describe('presentation: record formats (table, json)', () => {
  const records = [
    { ID: '0123456789ab', Repository: 'busybox', Tag: 'latest' },
    { ID: 'ba9876543210', Repository: 'localhost:5000/a/very-long-name', Tag: '1.0' },
  ];
  const headers = { ID: 'IMAGE ID' };

  it('table: a header row from the field names and columns aligned as tabwriter(10, 1, 3) does', () => {
    const out = renderRecords(parseRecordFormat('table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}'), records, headers);
    assert.equal(
      out,
      [
        'REPOSITORY                        TAG       IMAGE ID',
        'busybox                           latest    0123456789ab',
        'localhost:5000/a/very-long-name   1.0       ba9876543210',
        '',
      ].join('\n'),
    );
  });

  it('table with no records still prints the header; a plain template prints one line per record', () => {
    assert.equal(renderRecords(parseRecordFormat('table {{.ID}}\t{{.CreatedAt}}'), [], headers), 'IMAGE ID   CREATED AT\n');
    const labelled = [{ Names: 'web', Label: (k: string) => (k === 'team' ? 'shop' : '') }];
    assert.equal(
      renderRecords(parseRecordFormat('table {{.Names}}\t{{.Label "team"}}'), labelled, { Label: 'LABEL' }),
      'NAMES     LABEL\nweb       shop\n',
    );
    assert.equal(
      renderRecords(parseRecordFormat('{{.Repository}}:{{.Tag}}'), records),
      'busybox:latest\nlocalhost:5000/a/very-long-name:1.0\n',
    );
    // Without `table` tabs are printed as they are.
    assert.equal(renderRecords(parseRecordFormat('{{.Tag}}\\t{{.ID}}'), records.slice(0, 1)), 'latest\t0123456789ab\n');
  });

  it('"table" alone is the command\'s default table; "json" is one JSON object per line', () => {
    assert.equal(renderRecords(parseRecordFormat('table', 'table {{.Tag}}'), records), 'TAG\nlatest\n1.0\n');
    const lines = renderRecords(parseRecordFormat('json'), records).trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => JSON.parse(l) as unknown),
      records,
    );
  });

  it('headers: the given title, or the field name in capitals by words', () => {
    assert.equal(defaultHeader('CreatedAt'), 'CREATED AT');
    assert.equal(defaultHeader('ID'), 'ID');
    assert.equal(defaultHeader('RunningFor'), 'RUNNING FOR');
    assert.equal(defaultHeader('IPAddress'), 'IP ADDRESS');
  });

  it('tabAlign pads each tab-terminated cell to the widest in its column block, at least 10', () => {
    assert.equal(tabAlign('a\tb\nlonger-than-ten\tc'), `a${' '.repeat(17)}b\nlonger-than-ten   c`);
    assert.equal(tabAlign('no tabs'), 'no tabs');
  });

  it('a bad field in a table or line format is a TemplateError', () => {
    throwsTemplate(() => renderRecords(parseRecordFormat('table {{.Nope}}'), records), /<\.Nope>/);
    throwsTemplate(() => parseRecordFormat('{{.ID'), /unclosed action/);
  });
});
