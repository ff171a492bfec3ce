/**
 * Every generated capture of the shared corpus through replay with the default policy: the
 * invariant, the annotated capture and tshark's read-back (see corpus.ts).
 */
import { GENERATED_DIR } from '../helpers/shared.js';
import { corpusSuite } from './corpus.js';

corpusSuite('replay over the generated captures (default policy)', GENERATED_DIR);
