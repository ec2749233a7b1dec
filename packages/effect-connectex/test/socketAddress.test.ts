/**
 * SocketAddress on Effect 3: the cases are written once for both front-ends, in
 * packages/frontend/test/socketAddress.ts.
 */
import "../../frontend/test/socketAddress.js"
