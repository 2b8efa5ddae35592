/**
 * The page: a login form, a selector of the resource services (Express, Fastify, Koa, Hono,
 * Next.js), a table of their answers and an activity log. The tokens are handled by session.ts.
 *
 * Served by the auth service at /app/ (cookie mode). The page builds its DOM node by node
 * (`textContent`, never `innerHTML`): its Content-Security-Policy enforces Trusted Types.
 */
import type { WebAppSettings } from '../../shared/web-client.js'
import { createSession, type ApiAnswer } from './session.js'

const ROUTES = { me: '/users/me', admin: '/admin/data' } as const
type Route = keyof typeof ROUTES

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T

/** `?client=short-lived` makes the page that client; the address bar is not storage. */
function clientFromAddress(): string {
  const requested = new URLSearchParams(location.search).get('client')
  return requested && /^[\w-]{1,64}$/.test(requested) ? requested : 'seed-client'
}

function log(text: string): void {
  const item = document.createElement('li')
  const time = document.createElement('time')
  time.textContent = new Date().toISOString().slice(11, 23)
  item.append(time, text)
  $('log').append(item)
}

const clientId = clientFromAddress()
const session = createSession({
  clientId,
  onEvent: log,
  onSignedOut: (reason) => showSignedOut(reason),
})

function showSignedOut(reason: string | undefined): void {
  document.body.dataset.state = 'signed-out'
  $('app').hidden = true
  $('login').hidden = false
  $('status').textContent = reason ? `Signed out: ${reason}.` : 'Not signed in.'
  const notice = $('notice')
  notice.hidden = !reason
  notice.textContent = reason ? `Your session ended (${reason}). Please log in again.` : ''
  for (const cell of document.querySelectorAll<HTMLElement>('#results td[data-route]')) {
    cell.textContent = ''
    delete cell.dataset.status
    delete cell.dataset.retried
  }
  $('answer').textContent = ''
}

function showSignedIn(): void {
  const user = session.user
  if (!user) return showSignedOut(undefined)
  document.body.dataset.state = 'signed-in'
  $('login').hidden = true
  $('app').hidden = false
  $('user').textContent = user.name
  $('roles').textContent = user.roles.join(', ') || 'no roles'
  $('client').textContent = clientId
  $('expires').textContent = new Date(user.expiresAt).toLocaleTimeString()
  $('status').textContent = `Signed in as ${user.name}.`
}

function describe(answer: ApiAnswer): string {
  const body = answer.body as Record<string, unknown> | string
  const detail =
    answer.status < 300 && typeof body === 'object'
      ? String(body.username ?? body.message ?? '')
      : (answer.challenge?.error ?? (typeof body === 'object' ? String(body.error ?? '') : ''))
  return `${answer.status}${answer.retried ? ' (after refresh)' : ''} ${detail}`.trim()
}

async function callApi(api: WebAppSettings['apis'][number], route: Route): Promise<void> {
  const results = $('results')
  const cell = $(`r-${api.name}-${route}`)
  results.dataset.pending = String(Number(results.dataset.pending) + 1)
  cell.textContent = '…'
  try {
    const label = `${api.name} GET ${ROUTES[route]}`
    const answer = await session.call(`${api.url}${ROUTES[route]}`, label)
    cell.dataset.status = String(answer.status)
    cell.dataset.retried = String(answer.retried)
    cell.textContent = describe(answer)
    $('answer').textContent = [
      `${api.name} GET ${ROUTES[route]} → ${answer.status}`,
      answer.challenge
        ? `WWW-Authenticate: Bearer error="${answer.challenge.error ?? ''}", ` +
          `error_description="${answer.challenge.description ?? ''}"`
        : '',
      JSON.stringify(answer.body, null, 2),
    ]
      .filter(Boolean)
      .join('\n')
    if (session.user) showSignedIn() // the expiry time moves on after a refresh
  } catch (error) {
    cell.dataset.status = 'error'
    cell.textContent = (error as Error).message
  } finally {
    results.dataset.pending = String(Number(results.dataset.pending) - 1)
    results.dataset.done = String(Number(results.dataset.done) + 1)
  }
}

async function start(): Promise<void> {
  const settings = (await (await fetch('config.json')).json()) as WebAppSettings
  const select = $<HTMLSelectElement>('service')
  const rows = $('results').querySelector('tbody')!
  for (const api of settings.apis) {
    select.append(new Option(`${api.name} (${api.url})`, api.name))
    const row = document.createElement('tr')
    const name = document.createElement('th')
    name.textContent = api.name
    row.append(name)
    for (const route of Object.keys(ROUTES) as Route[]) {
      const cell = document.createElement('td')
      cell.id = `r-${api.name}-${route}`
      cell.dataset.route = route
      row.append(cell)
    }
    rows.append(row)
  }
  const selected = () => settings.apis.find((a) => a.name === select.value)!

  const link = $<HTMLAnchorElement>('client-link')
  if (clientId !== 'seed-client') {
    link.href = '?'
    link.textContent = 'Act as the default client (seed-client)'
  }

  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault()
    const error = $('login-error')
    error.hidden = true
    const username = $<HTMLInputElement>('username').value
    const password = $<HTMLInputElement>('password')
    session.login(username, password.value).then(
      () => {
        password.value = ''
        showSignedIn()
      },
      (e: Error) => {
        error.hidden = false
        error.textContent = e.message
      },
    )
  })
  $('logout').addEventListener('click', () => void session.logout())
  $('me').addEventListener('click', () => void callApi(selected(), 'me'))
  $('admin').addEventListener('click', () => void callApi(selected(), 'admin'))
  $('all').addEventListener('click', () => {
    for (const api of settings.apis) {
      for (const route of Object.keys(ROUTES) as Route[]) void callApi(api, route)
    }
  })

  // a reload: the refresh cookie (if any) brings the session back; nothing was stored
  if (await session.restore()) showSignedIn()
}

start().catch((error: Error) => {
  $('status').textContent = `The app could not start: ${error.message}`
})
