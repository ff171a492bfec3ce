/**
 * Every external (public) capture of the shared corpus through replay with the default policy:
 * the invariant, the annotated capture and tshark's read-back (see corpus.ts).
 */
import { EXTERNAL_PCAPS } from '../helpers/shared.js';
import { corpusSuite } from './corpus.js';

corpusSuite('replay over the external captures (default policy)', EXTERNAL_PCAPS);
