import * as assert from 'node:assert/strict';
import { nextPage, stringList } from '../../../runtime/distribution/catalog';
import { kindOf } from '../../../runtime/errdefs/errdefs';

describe('distribution: catalog and tags paging', () => {
  const page = new URL('https://reg.example:5000/v2/_catalog?n=2');

  it('follows rel="next", relative to the page', () => {
    const next = nextPage('</v2/_catalog?last=b&n=2>; rel="next"', page, 'catalog');
    assert.equal(next?.toString(), 'https://reg.example:5000/v2/_catalog?last=b&n=2');
    assert.equal(nextPage(['<x?last=c>; rel=next'], page, 'catalog')?.toString(), 'https://reg.example:5000/v2/x?last=c');
  });

  it('picks next among several links and ends without one', () => {
    const link = '</v2/_catalog?n=2>; rel="first", </v2/_catalog?last=d&n=2>; rel="next"';
    assert.equal(nextPage(link, page, 'catalog')?.searchParams.get('last'), 'd');
    assert.equal(nextPage(undefined, page, 'catalog'), undefined);
    assert.equal(nextPage('</v2/_catalog?n=2>; rel="prev"', page, 'catalog'), undefined);
  });

  it('refuses a next page on another origin (it would get our credentials)', () => {
    assert.throws(
      () => nextPage('<https://evil.example/v2/_catalog?last=b>; rel="next"', page, 'catalog of reg.example:5000'),
      (e: Error) => kindOf(e) === 'FailedPrecondition' && /another origin \(https:\/\/evil\.example\)/.test(e.message),
    );
  });

  it('reads lists of names; null is empty, anything else is refused', () => {
    assert.deepEqual(stringList({ tags: ['1', '2'] }, 'tags', 's'), ['1', '2']);
    assert.deepEqual(stringList({ name: 'x', tags: null }, 'tags', 's'), []);
    assert.throws(
      () => stringList({ tags: [1] }, 'tags', 's'),
      (e: Error) => kindOf(e) === 'DataLoss',
    );
  });
});
