/**
 * A suite run as JUnit XML, the report CI systems read (GitLab `artifacts:reports:junit`, Jenkins'
 * junit step, GitHub test-report actions): one testcase per case, a FAIL as <failure>, an ERROR
 * as <error>, with the same lines the console shows. Nothing volatile (no run time, host or date),
 * so the report of an unchanged suite is byte for byte the same.
 */
import type { SuiteCaseResult } from './run.js';

/** Text as XML character data / attribute value: escaped, and characters XML 1.0 forbids dropped. */
function xml(s: string): string {
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** A case's group as a dotted class name (`smtp/limits/07c` -> `regress.smtp.limits`), as JUnit viewers group by it. */
function className(name: string): string {
  const cut = name.lastIndexOf('/');
  return cut < 0 ? 'regress' : `regress.${name.slice(0, cut).replace(/[/.]/g, '.')}`;
}

function caseName(name: string): string {
  const cut = name.lastIndexOf('/');
  return cut < 0 ? name : name.slice(cut + 1);
}

export function junitReport(results: readonly SuiteCaseResult[], suiteName: string): string {
  const failures = results.filter((r) => r.status === 'fail').length;
  const errors = results.filter((r) => r.status === 'error').length;
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const counts = `tests="${results.length}" failures="${failures}" errors="${errors}" skipped="0"`;
  out.push(`<testsuites name="smtp-inspect regress" ${counts}>`);
  out.push(`  <testsuite name="${xml(suiteName)}" ${counts}>`);
  for (const r of results) {
    const open = `    <testcase classname="${xml(className(r.name))}" name="${xml(caseName(r.name))}"`;
    const body = r.problems.map((p) => p.replace(/^ {2}/, '')).join('\n');
    if (r.status === 'fail') {
      out.push(`${open}>`, `      <failure message="output differs from the expectations" type="FAIL">${xml(body)}</failure>`, '    </testcase>');
    } else if (r.status === 'error') {
      const message = r.outputError === true ? 'expectation file could not be written' : 'case cannot run';
      out.push(`${open}>`, `      <error message="${message}" type="ERROR">${xml(body)}</error>`, '    </testcase>');
    } else if (r.problems.length > 0) {
      out.push(`${open}>`, `      <system-out>${xml(body)}</system-out>`, '    </testcase>');
    } else {
      out.push(`${open}/>`);
    }
  }
  out.push('  </testsuite>', '</testsuites>', '');
  return out.join('\n');
}
