/** GET / — public. */
export function GET() {
  return Response.json({ message: 'Welcome to the Next.js resource service!' })
}
