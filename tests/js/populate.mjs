// Pre-fill the bonemets Questionnaire from a patient record with CSIRO's SDC populate
// (@aehrc/sdc-populate, an implementation of SDC $populate that no one on this project wrote).
//
//   node populate.mjs QUESTIONNAIRE.json RECORD.json  ->  prints {"response": QR, "issues": ...}
//
// RECORD.json is a Bundle holding one Patient and their Conditions and Observations. The
// callback below answers the Questionnaire's x-fhir-query searches over that Bundle, the way a
// FHIR server would: resource type, patient, code (system|code, comma = or), _sort=-date, _count.
import { readFileSync } from 'node:fs';
import { populateQuestionnaire } from '@aehrc/sdc-populate';

const [questionnairePath, recordPath] = process.argv.slice(2);
const questionnaire = JSON.parse(readFileSync(questionnairePath, 'utf8'));
const record = JSON.parse(readFileSync(recordPath, 'utf8'));
const resources = (record.entry || []).map((e) => e.resource);
const patient = resources.find((r) => r.resourceType === 'Patient');
const queries = [];
const terminology = [];

function effective(r) {
  return r.effectiveDateTime || r.recordedDate || r.onsetDateTime || '';
}

function search(query) {
  queries.push(query);
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
    } else if (name !== '_count') {
      throw new Error(`search parameter not supported by this test server: ${name}`);
    }
  }
  if (params.has('_count')) found = found.slice(0, Number(params.get('_count')));
  return { resourceType: 'Bundle', type: 'searchset', total: found.length,
           entry: found.map((resource) => ({ resource })) };
}

const { populateSuccess, populateResult } = await populateQuestionnaire({
  questionnaire,
  patient,
  fetchResourceCallback: async (query) => search(query),
  fetchResourceRequestConfig: { sourceServerUrl: 'http://record.invalid/fhir/' },
  // No terminology server: the test is offline, and our answers carry their own displays.
  fetchTerminologyCallback: async (query) => {
    terminology.push(query);
    throw new Error(`no terminology server in this test: ${query}`);
  },
  fetchTerminologyRequestConfig: { terminologyServerUrl: 'http://terminology.invalid/fhir/' },
});
process.stdout.write(JSON.stringify({
  success: populateSuccess,
  response: populateResult ? populateResult.populatedResponse : null,
  issues: populateResult ? populateResult.issues || null : null,
  queries,
  terminology,
}), () => process.exit(0));  // the library leaves a timer running: do not wait for it
