// Every URL the viewer fetches or links to is built here, from atlas.json's templates.

export const ATLAS_URL = 'atlas.json';
export const HUB_URL = 'https://huggingface.co/';
export const TRANSPARENT_PNG =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNgYGBgAAAABQABeqhXUAAAAABJRU5ErkJggg==';

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(String(values[name])));
}

// URLs of the on-demand data described by atlas.json's "data" section.
export function createUrls(data) {
  return {
    searchNode: (key) => fill(data.search.template, { key }),
    namesBlock: (block) => fill(data.names.template, { block }),
    separators: (group) => fill(data.names.separators, { group }),
    // Where ids live: `block` ids per names file, `group` blocks per separator file, `top` separators.
    vertexWidth: data.vertex_width, // characters per vertex number in the fixed streams
    namesLayout: { block: data.names.block, group: data.names.group, top: data.names.top },
    dictionary: () => data.details.dict,
    detailChunk: (chunk) => fill(data.details.template, { chunk }),
    pickCell: (z, x, y) => fill(data.pick.template, { z, x, y }),
    labels: typeof data.labels === 'string' ? data.labels : null, // map labels, optional
    licences: licenceUrls(data.licences), // declared-licence changes, optional
    words: wordUrls(data.words), // the word index (any word order), optional
    // close-up cells (ids, downloads, legend codes of a pick cell's models), optional
    nearCell: typeof data.near?.template === 'string' ? (z, x, y) => fill(data.near.template, { z, x, y }) : null,
  };
}

// The word index's files (atlasgen/index/words.py), or null for an atlas without one.
function wordUrls(words) {
  if (!words || typeof words !== 'object') return null;
  const { index, common, rare, ranks, block } = words;
  if (![index, common, rare, ranks].every((v) => typeof v === 'string') || !(block > 0)) return null;
  return {
    index,
    block,
    common: (key, page) => fill(common, { key, page }),
    rare: (key) => fill(rare, { key }),
    ranks: (block) => fill(ranks, { block }),
  };
}

// The licence changes' files (atlasgen/licence_changes.py), or null for an atlas without them.
function licenceUrls(licences) {
  if (!licences || typeof licences !== 'object') return null;
  const { families, top, template } = licences;
  if (![families, top, template].every((v) => typeof v === 'string')) return null;
  return { families, top, chunk: (chunk) => fill(template, { chunk }) };
}

// The model's page on the Hub: each path part percent-encoded, nothing else ever goes into an href.
export function hubUrl(id) {
  return HUB_URL + id.split('/').map(encodeURIComponent).join('/');
}
