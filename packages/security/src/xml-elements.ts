/** One child element of an XML document's root, with its exact source text. */
export interface XmlElement {
  readonly name: string;
  /** The element from `<` to its closing `>`, byte for byte as in the document. */
  readonly text: string;
}

const NAME = /^[^\s/>!?]+/;

/**
 * The direct children of the root element, each as its source text, so a stub can copy them
 * without re-serialising (a phone compares nothing, but people diff these files). Comments,
 * CDATA, processing instructions and quoted `>` in attributes are skipped correctly; text
 * that is not well-formed gives the children found before the fault (never a throw: the stub
 * is a courtesy, the encrypted file is what matters).
 *
 * @example
 * ```ts
 * topLevelElements('<device><a>1</a><b/></device>'); // [{ name: 'a', text: '<a>1</a>' }, { name: 'b', text: '<b/>' }]
 * ```
 */
export function topLevelElements(xml: string): XmlElement[] {
  const out: XmlElement[] = [];
  let depth = 0;
  let start = -1;
  let name = '';
  let i = 0;
  const skipTo = (end: string, from: number) => {
    const at = xml.indexOf(end, from);
    return at < 0 ? -1 : at + end.length;
  };
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    if (lt < 0) break;
    let next: number;
    if (xml.startsWith('<!--', lt)) next = skipTo('-->', lt + 4);
    else if (xml.startsWith('<![CDATA[', lt)) next = skipTo(']]>', lt + 9);
    else if (xml.startsWith('<?', lt)) next = skipTo('?>', lt + 2);
    else if (xml.startsWith('<!', lt)) next = skipTo('>', lt + 2);
    else {
      next = tagEnd(xml, lt);
      if (next < 0) return out;
      const closing = xml[lt + 1] === '/';
      const selfClosing = xml[next - 2] === '/';
      if (closing) {
        depth--;
        if (depth === 1 && start >= 0) {
          out.push({ name, text: xml.slice(start, next) });
          start = -1;
        }
        if (depth < 0) return out;
      } else {
        if (depth === 1) {
          start = lt;
          name = NAME.exec(xml.slice(lt + 1))?.[0] ?? '';
          if (selfClosing) {
            out.push({ name, text: xml.slice(start, next) });
            start = -1;
          }
        }
        if (!selfClosing) depth++;
      }
    }
    if (next < 0) return out;
    i = next;
  }
  return out;
}

/** Index just past the `>` that ends the tag opened at `lt`, minding quoted attribute values. */
function tagEnd(xml: string, lt: number): number {
  let quote = '';
  for (let i = lt + 1; i < xml.length; i++) {
    const c = xml[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '>') return i + 1;
  }
  return -1;
}
