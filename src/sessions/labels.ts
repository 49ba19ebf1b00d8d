/**
 * Moved to src/labels.ts (gc, monitor, doctor and the image code below sessions use it too). This re-export is left
 * only for src/sessions/exec.ts, which is being changed on main meanwhile: point its import at '../labels.js' and
 * delete this file.
 */
export { LABEL } from '../labels.js';
