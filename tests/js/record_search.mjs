// A tiny FHIR search over one patient's record (an array of resources), the way a FHIR server
// answers the Questionnaire's x-fhir-query variables: resource type, patient, code (system|code,
// comma = or), _sort=-date, _count. Shared by populate.mjs (node) and the LHC-Forms browser test.
function effective(r) {
  return r.effectiveDateTime || r.recordedDate || r.onsetDateTime || '';
}

export function searchRecord(resources, query) {
  const relative = query.replace(/^https?:\/\/[^/]+\/(fhir\/)?/, '');
  const [type, qs = ''] = relative.split('?');
  const params = new URLSearchParams(qs);
  let found = resources.filter((r) => r.resourceType === type);
  for (const [name, value] of params) {
    if (name === 'patient') {
      found = found.filter((r) => (r.subject || {}).reference === `Patient/${value}`);
    } else if (name === 'code') {
      const wanted = new Set(value.split(','));
      found = found.filter((r) => ((r.code || {}).coding || []).some(
        (c) => wanted.has(`${c.system}|${c.code}`) || wanted.has(c.code)));
    } else if (name === '_sort' && value === '-date') {
      found = [...found].sort((a, b) => (effective(a) < effective(b) ? 1 : -1));
    } else if (name !== '_count' && name !== '_format') {
      throw new Error(`search parameter not supported by this test server: ${name}`);
    }
  }
  if (params.has('_count')) found = found.slice(0, Number(params.get('_count')));
  return { resourceType: 'Bundle', type: 'searchset', total: found.length,
           entry: found.map((resource) => ({ resource })) };
}
