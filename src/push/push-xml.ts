import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';

/** Nothing WeChat sends is nested deeper than this (wxa_media_check: xml › detail › field). */
const MAX_DEPTH = 8;
const CDATA = '#cdata';
const TEXT = '#text';

/**
 * Entity processing off: no DTD is read, no entity expanded, so neither XXE (external entities)
 * nor "billion laughs" (nested expansion) can happen. A DOCTYPE or ENTITY declaration has no place
 * in a WeChat message, so it is refused outright rather than skipped.
 */
const parser = new XMLParser({
  processEntities: false,
  htmlEntities: false,
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  trimValues: true,
  cdataPropName: CDATA,
  maxNestedTags: MAX_DEPTH,
});
const builder = new XMLBuilder({ cdataPropName: CDATA, suppressEmptyNode: false });

export class PushXmlError extends Error {}

/**
 * A WeChat push (`<xml>…</xml>`) as a plain object of strings, nested objects and arrays.
 * Throws PushXmlError for anything that is not one well-formed `<xml>` element.
 */
export function parsePushXml(text: string): Record<string, unknown> {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new PushXmlError('DOCTYPE and ENTITY declarations are not allowed');
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new PushXmlError(`not well-formed XML (line ${valid.err.line}: ${valid.err.msg})`);
  let doc: unknown;
  try {
    doc = parser.parse(text);
  } catch (err) {
    throw new PushXmlError((err as Error).message);
  }
  const root = doc as Record<string, unknown>;
  const keys = Object.keys(root);
  if (keys.length !== 1 || keys[0] !== 'xml') throw new PushXmlError('the document must be one <xml> element');
  const message = flatten(root.xml);
  if (typeof message !== 'object' || message === null || Array.isArray(message)) throw new PushXmlError('<xml> holds no fields');
  return message as Record<string, unknown>;
}

/** CDATA stays literal; plain text gets the five predefined entities and character references decoded. */
function flatten(node: unknown): unknown {
  if (typeof node === 'string') return decodePredefinedEntities(node);
  if (Array.isArray(node)) return node.map(flatten);
  if (typeof node !== 'object' || node === null) return node;
  const obj = node as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.every((k) => k === CDATA || k === TEXT)) {
    const cdata = obj[CDATA];
    const text = obj[TEXT] === undefined ? '' : decodePredefinedEntities(String(obj[TEXT]));
    return text + (Array.isArray(cdata) ? cdata.join('') : (cdata ?? ''));
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) if (k !== CDATA && k !== TEXT) out[k] = flatten(obj[k]);
  return out;
}

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodePredefinedEntities(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#\d{1,7}|#x[0-9a-fA-F]{1,6});/g, (whole, name: string) => {
    if (name[0] !== '#') return NAMED[name];
    const code = name[1] === 'x' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

/** Builds `<xml>…</xml>` as WeChat writes it: strings in CDATA, numbers bare. */
export function buildPushXml(message: Record<string, unknown>): string {
  return builder.build({ xml: wrap(message) }) as string;
}

function wrap(value: unknown): unknown {
  if (typeof value === 'string') return { [CDATA]: value };
  if (Array.isArray(value)) return value.map(wrap);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, wrap(v)]));
  return value;
}
