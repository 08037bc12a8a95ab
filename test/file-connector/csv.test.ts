import { describe, expect, it } from 'vitest';
import { CsvSyntaxError, parseCsv } from '../../connectors/file/index.js';
import { reference, referenceInputs } from '../support/reference.js';

const records = (text: string) => [...parseCsv(text, 'people.csv')];

describe('CSV parsing', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, and CRLF line ends', () => {
    const text = 'id,company,notes\r\n1,"Engines, Ltd","said ""hi"""\r\n2,"Two\r\nLines",plain\r\n3,,\r\n';
    expect(records(text)).toEqual([
      { line: 1, fields: ['id', 'company', 'notes'] },
      { line: 2, fields: ['1', 'Engines, Ltd', 'said "hi"'] },
      { line: 3, fields: ['2', 'Two\r\nLines', 'plain'] },
      { line: 5, fields: ['3', '', ''] },
    ]);
  });

  it('skips a byte-order mark and blank lines, and reads a last line without a newline', () => {
    expect(records('\uFEFFid,name\n\n1,Ada\n\n2,"Bob"')).toEqual([
      { line: 1, fields: ['id', 'name'] },
      { line: 3, fields: ['1', 'Ada'] },
      { line: 5, fields: ['2', 'Bob'] },
    ]);
  });

  it('names the file and line of a quoted field that is never closed', () => {
    expect(() => records('id,name\n1,Ada\n2,"Bob\n3,Cy\n')).toThrow(
      new CsvSyntaxError('people.csv', 3, 'a quoted field is never closed'),
    );
  });

  it('names the line of text after a closing quote', () => {
    expect(() => records('id,name\n1,"Ada" Lovelace\n')).toThrow(
      /people.csv line 2: unexpected " " after a closing quote/,
    );
  });

  it("reads back exactly what Python's csv writer wrote, for awkward values", () => {
    // Python's csv module is the independent writer; its RFC 4180 quoting is what spreadsheets and exports produce.
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const pieces = ['a', 'Zoë', ',', '"', '\n', '\r\n', ' ', '""', 'x,y', '😀', ''];
    const rows = Array.from({ length: 200 }, () =>
      Array.from({ length: 4 }, () =>
        Array.from({ length: Math.floor(random() * 4) }, () => pieces[Math.floor(random() * pieces.length)]).join(''),
      ),
    );
    referenceInputs('csv-writer', rows);
    // csv.writer(out, lineterminator='\r\n').writerows(rows), by test/fixtures/reference/regenerate.py
    const { written } = reference<{ written: string }>('csv-writer');
    expect(records(written).map((r) => r.fields)).toEqual(rows);
  });
});
