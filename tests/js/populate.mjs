// Pre-fill the bonemets Questionnaire from a patient record with CSIRO's SDC populate
// (@aehrc/sdc-populate, an implementation of SDC $populate that no one on this project wrote).
//
//   node populate.mjs QUESTIONNAIRE.json RECORD.json  ->  prints {"response": QR, ...}
//
// RECORD.json is a Bundle holding one Patient and their Conditions and Observations; the
// Questionnaire's searches are answered from it by record_search.mjs, as a FHIR server would.
import { readFileSync } from 'node:fs';
import { populateQuestionnaire } from '@aehrc/sdc-populate';
import { searchRecord } from './record_search.mjs';

const [questionnairePath, recordPath] = process.argv.slice(2);
const questionnaire = JSON.parse(readFileSync(questionnairePath, 'utf8'));
const record = JSON.parse(readFileSync(recordPath, 'utf8'));
const resources = (record.entry || []).map((e) => e.resource);
const patient = resources.find((r) => r.resourceType === 'Patient');
const queries = [];
const terminology = [];

const { populateSuccess, populateResult } = await populateQuestionnaire({
  questionnaire,
  patient,
  fetchResourceCallback: async (query) => {
    queries.push(query);
    return searchRecord(resources, query);
  },
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
