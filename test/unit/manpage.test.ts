/**
 * The man page ocf_ferry_container(7): text from the tables is escaped for roff, so that what the admin reads
 * (and copies from the example) is what was written: ASCII hyphens, backslashes, and no line of prose that
 * roff would take for a request.
 */
import t from 'tap';
import { execa } from 'execa';
import { roff, buildManPage } from '../../src/ocf/manpage.js';
import { PARAMS } from '../../src/settings/params.js';
import { ACTIONS } from '../../src/ocf/actions.js';
import { int, seeded } from './fixtures/random.js';

t.test('roff: hyphens stay ASCII hyphen-minus (\\-)', async (t) => {
  t.equal(roff('allow-migrate=true'), 'allow\\-migrate=true');
  t.equal(roff('--tcp-established'), '\\-\\-tcp\\-established');
  t.equal(roff('no hyphen here'), 'no hyphen here');
});

t.test('roff: backslashes print as backslashes (\\e), and are not doubled by the other escapes', async (t) => {
  t.equal(roff('a \\ b'), 'a \\e b');
  t.equal(roff('C:\\dir'), 'C:\\edir');
  t.equal(roff('\\-'), '\\e\\-', 'a literal backslash-hyphen');
  t.equal(roff('\\fBnot bold\\fR'), '\\efBnot bold\\efR', 'font escapes in the text are not interpreted');
});

t.test('roff: a leading dot or apostrophe is protected on every line (\\&)', async (t) => {
  t.equal(roff('.SH not a heading'), '\\&.SH not a heading');
  t.equal(roff('\'br not a break'), '\\&\'br not a break');
  t.equal(roff('first\n.second\n\'third\nfourth.'), 'first\n\\&.second\n\\&\'third\nfourth.');
  t.equal(roff('state_dir. A sentence.'), 'state_dir. A sentence.', 'dots elsewhere are left alone');
  t.equal(roff('.-x'), '\\&.\\-x', 'both escapes together');
});

t.test('roff-escaped text renders back to exactly the original characters (groff, seeded random ASCII)', async (t) => {
  const rnd = seeded(0x0ff);
  const printable = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('');
  const lines = Array.from({ length: 200 }, () => {
    let line = '';
    for (let n = int(rnd, 1, 50); n > 0; n -= 1) line += printable.charAt(int(rnd, 0, printable.length - 1));
    return line.trim() || '.';
  });
  lines.push('.TH leading dot', '\'br leading apostrophe', '\\fB', '-\\-', '...');
  const r = await execa('groff', ['-Tascii', '-ww'], { input: `.nf\n${roff(lines.join('\n'))}\n.fi\n`, reject: false });
  t.equal(r.stderr, '', 'no groff warnings');
  const rendered = r.stdout.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
  t.same(rendered, lines.map((l) => l.trimEnd()));
});

t.test('every line starting with "." or "\'" is a request the page means to make', async (t) => {
  const requests = buildManPage().split('\n').filter((l) => /^[.']/.test(l)).map((l) => /^[.']([A-Za-z]+)/.exec(l)?.[1]);
  const allowed = ['TH', 'nh', 'ad', 'SH', 'SS', 'PP', 'RS', 'RE', 'sp', 'nf', 'fi'];
  t.same(requests.filter((r) => r === undefined || !allowed.includes(r)), []);
});

t.test('the page documents every parameter and action', async (t) => {
  const page = buildManPage();
  for (const name of Object.keys(PARAMS)) t.match(page, `\\fB${roff(name)}\\fR\n`, `parameter ${name}`);
  for (const a of ACTIONS) t.match(page, `\\fB${roff(a.name)}\\fR\n`, `action ${a.name}`);
  const native = page.indexOf('.SS "The init command (driver=native or podman)"');
  t.ok(native > 0 && native < page.indexOf('\\fBcommand\\fR') && page.indexOf('\\fBcommand\\fR') < page.indexOf('.SS "DRBD storage'), 'the init command under its own heading');
  t.ok(page.indexOf('.SS "The podman driver (driver=podman)"') < page.indexOf('\\fBrun_opts\\fR'), 'podman\'s parameters under its own heading');
  t.match(page, '(unique, required, string, no default)', 'name is marked unique and required');
  t.match(page, '(optional, integer, seconds, default "10")', 'stop_timeout shows its unit and default');
});

t.test('groff renders the page without warnings, and the crm example is copyable as written', async (t) => {
  const r = await execa('groff', ['-man', '-Tascii', '-ww'], { input: buildManPage(), reject: false });
  t.equal(r.exitCode, 0);
  t.equal(r.stderr, '', 'no groff warnings');
  const text = r.stdout.replace(/.\x08/g, ''); // drop overstrike bold/underline
  for (const line of [
    'primitive web1 ocf:ferry:container \\',
    'params name=web1 command="/usr/bin/python3 /srv/web1/server.py" \\',
    'ip=10.78.0.50/24 bridge=br0 state_dir=/srv/shared/ferry \\',
    'meta allow-migrate=true \\',
    'op migrate_to timeout=300s op migrate_from timeout=300s',
  ]) t.ok(text.split('\n').some((l) => l.trim() === line), `rendered: ${line}`);
  t.match(text, /OCF_FERRY_CONTAINER\(7\)/);
  t.match(text, /validate-all/);
});
