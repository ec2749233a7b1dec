/**
 * dialName / dialList (Happy Eyeballs) on Effect 4: the cases are written once for both front-ends, in
 * packages/frontend/test/dialName.ts.
 */
import "../../frontend/test/dialName.js"
