// The `meridian` executable: bin/meridian.js runs the compiled copy of this file, tests run it with tsx.
import { main } from './cli.js'

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    console.error(`meridian: ${err instanceof Error ? err.message : String(err)}`)
    process.exitCode = 1
  },
)
