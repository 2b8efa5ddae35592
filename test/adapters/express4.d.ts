// `express4` is Express 4 installed under an alias (npm:express@^4) to run the conformance table on
// both majors; its API, as used by the tests, is Express's.
declare module 'express4' {
  import express from 'express'
  export default express
}
