// Realistic AppState samples for tests: CIS2-shaped users, roles and records from the mock's test users.
import type {
  RunCaseView,
  RunPlansView,
  RunView,
  AppState,
  AttemptSummaryView,
  AttemptView,
  Notice,
  ProfileView,
  RoleChoiceView,
  RoleView,
  Screen,
  SignedInView,
  TesterRecord,
  WaitingView,
  NoticeClass,
} from './generated/ipc';

/** 29 November 2026, 09:00:00 UTC, in Unix seconds: the clock every fixture is set against. */
export const NOW = 1_795_942_800;

export const MOCK_PROFILE: ProfileView = {
  name: 'mock',
  description: 'Built-in mock CIS2 on this computer',
  builtIn: true,
  issuer: 'http://127.0.0.1:8443/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare',
  clientId: 'careid-desktop',
  clientAuth: 'none',
  assertionAlgorithm: null,
  credential: 'notNeeded',
  missing: [],
  scopes: ['openid', 'profile', 'email', 'nationalrbacaccess'],
  acrValues: null,
  prompt: null,
  maxAge: null,
  roleSelection: 'app',
  redirectPorts: [],
  redirectUris: [],
  redirectRegister:
    'careid listens on any free port: the provider must accept any loopback port for http://127.0.0.1/callback (RFC 8252 §7.3); register fixed ports with --redirect-port if it does not',
  inactivityMinutes: 15,
  absoluteHours: 12,
};

export const INT_PROFILE: ProfileView = {
  ...MOCK_PROFILE,
  name: 'int',
  description: 'CIS2 integration environment (INT)',
  issuer: 'https://am.nhsint.auth-ptl.cis2.spineservices.nhs.uk:443/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare',
  clientId: null,
  clientAuth: 'private_key_jwt',
  assertionAlgorithm: 'RS512',
  credential: 'missing',
  missing: ['client id', 'private key in the keychain'],
  redirectPorts: [53682, 53683],
  redirectUris: ['http://127.0.0.1:53682/callback', 'http://127.0.0.1:53683/callback'],
  redirectRegister:
    'register every one of these redirect URIs for the client (careid uses the first free port): http://127.0.0.1:53682/callback, http://127.0.0.1:53683/callback',
};

export const CUSTOM_PROFILE: ProfileView = {
  ...MOCK_PROFILE,
  name: 'ward-test',
  description: 'Custom issuer for the ward pilot',
  builtIn: false,
  issuer: 'https://idp.ward.example/realms/cis2',
  clientId: 'ward-pilot',
  clientAuth: 'client_secret_basic',
  credential: 'stored',
};

const NHSID_DEV = { name: 'NHSID DEV', code: 'A9A5A' };

export const NURSE_ROLE: RoleView = {
  id: '555254242105',
  name: 'Nurse Access Role',
  code: 'S8000:G8000:R8001',
  jobRoleCode: 'R8001',
  organisation: NHSID_DEV,
  activities: ['Access Summary Care Record', 'Manage Pending Registrations'],
};

export const FLO = { name: 'Flo Nurse', userId: '555057896106', label: 'Flo Nurse (555057896106)' };
export const ALEX = { name: 'Alex Locum', userId: '555057910105', label: 'Alex Locum (555057910105)' };

function role(id: string, name: string, code: string, org: { name: string; code: string }, activities: string[]): RoleView {
  return { id, name, code, jobRoleCode: code.split(':').pop() ?? code, organisation: org, activities };
}

const LEEDS = { name: 'LEEDS TEACHING HOSPITALS NHS TRUST', code: 'RR8' };
const BOOTS = { name: 'BOOTS UK LIMITED', code: 'FA565' };
const MANOR = { name: 'MANOR HOUSE SURGERY', code: 'B86016' };

/** Alex Locum: 7 roles in 4 organisations, enough for the search box. */
export const ALEX_CHOICE: RoleChoiceView = {
  user: ALEX,
  groups: [
    { organisation: NHSID_DEV, roles: [role('555254250107', 'Admin and Clerical', 'S8000:G8001:R8010', NHSID_DEV, ['Receive Alerts'])] },
    {
      organisation: LEEDS,
      roles: [
        role('555254251108', 'Clinical Practitioner Access Role', 'S8000:G8000:R8000', LEEDS, ['Perform Prescription Preparation', 'View Patient Medication']),
        role('555254252109', 'Medical Secretary Access Role', 'S8000:G8001:R8006', LEEDS, ['Amend Patient Demographics']),
      ],
    },
    {
      organisation: BOOTS,
      roles: [
        role('555254253100', 'Pharmacist', 'S8000:G8000:R8003', BOOTS, ['Dispense Prescriptions', 'Access Summary Care Record']),
        role('555254254101', 'Pharmacy Technician', 'S8000:G8000:R8004', BOOTS, ['Dispense Prescriptions']),
      ],
    },
    {
      organisation: MANOR,
      roles: [
        role('555254255102', 'GP', 'S8000:G8000:R8000', MANOR, ['Issue Prescriptions', 'Manage Referrals']),
        role('555254256103', 'Receptionist Access Role', 'S8000:G8001:R8009', MANOR, []),
      ],
    },
  ],
  preselected: null,
  changing: false,
};

export const FLO_CHOICE: RoleChoiceView = {
  user: FLO,
  groups: [{ organisation: NHSID_DEV, roles: [NURSE_ROLE] }],
  preselected: NURSE_ROLE.id,
  changing: true,
};

export const FLO_SIGNED_IN: SignedInView = {
  user: FLO,
  role: NURSE_ROLE,
  assuranceLevel: 3,
  endsAt: NOW + 12 * 3600,
  idleEndsAt: NOW + 15 * 60,
  inactivityMinutes: 15,
  absoluteHours: 12,
  inactivityWarning: false,
  canChangeRole: false,
  refreshable: true,
};

export const WAITING: WaitingView = {
  startedAt: NOW,
  deadline: NOW + 300,
  hintAfterSeconds: 30,
  redirectUri: 'http://127.0.0.1:53682/callback',
  redirectUriAccepted: false,
  changingRole: false,
};

export const FLO_RECORD: TesterRecord = {
  profile: 'mock',
  issuer: MOCK_PROFILE.issuer ?? '',
  signedInAt: NOW,
  acr: 'AAL3_ANY',
  amr: ['SCARD', 'PIN'],
  authenticationAssuranceLevel: '3',
  idAssuranceLevel: '3',
  authTime: NOW - 20,
  sid: 'b4f5c9a2-7d1e-4c8a-9f3b-2a6d8e1c0f47-a-very-long-session-identifier-that-must-wrap',
  selectedRoleid: NURSE_ROLE.id,
  requested: { acrValues: 'AAL3_ANY', prompt: 'login', maxAge: null, scopes: null },
  idTokenClaims: { sub: FLO.userId, iss: MOCK_PROFILE.issuer, acr: 'AAL3_ANY', amr: ['SCARD', 'PIN'] },
  accessTokenClaims: null,
  userinfo: { sub: FLO.userId, name: FLO.name, nhsid_useruid: FLO.userId },
  discovery: { issuer: MOCK_PROFILE.issuer, response_modes_supported: ['query'] },
  timings: [
    { step: 'discovery', millis: 42 },
    { step: 'browser', millis: 8120 },
    { step: 'token', millis: 130 },
    { step: 'userinfo', millis: 61 },
  ],
  strayCallbacks: 2,
};

export function state(screen: Screen, extra: Partial<AppState> = {}): AppState {
  return {
    app: { name: 'careid', version: '0.1.0', buildProfile: 'debug' },
    profile: MOCK_PROFILE,
    profiles: [MOCK_PROFILE, INT_PROFILE, CUSTOM_PROFILE],
    screen,
    notice: null,
    preferences: { testersView: false },
    tester: null,
    run: null,
    mockGuide: {
      users: [
        { id: FLO.userId, name: FLO.name, description: 'One role, smartcard', roles: 1, authenticators: ['smartcard', 'windows_hello'] },
        { id: ALEX.userId, name: ALEX.name, description: 'Seven roles in four organisations', roles: 7, authenticators: ['security_key'] },
        { id: '555057920106', name: 'Noel Roles', description: 'No roles at all', roles: 0, authenticators: ['password'] },
      ],
      authenticators: [
        { id: 'smartcard', label: 'Smartcard', assuranceLevel: 3, amr: 'SCARD' },
        { id: 'windows_hello', label: 'Windows Hello for Business', assuranceLevel: 3, amr: 'FIDO' },
        { id: 'password', label: 'Password', assuranceLevel: 1, amr: 'PWD' },
      ],
    },
    ...extra,
  };
}

export function notice(code: string, cls: NoticeClass, more: Partial<Notice> = {}): Notice {
  return {
    code,
    class: cls,
    detail: null,
    providerError: null,
    providerDescription: null,
    acrValues: null,
    reference: 'K7M2Q9XD',
    at: NOW * 1000 + 5_000,
    ...more,
  };
}

export const HOME = state({ kind: 'home' });
export const RESTORING = state({ kind: 'restoring' });
export const WAITING_STATE = state({ kind: 'waiting', ...WAITING });
export const ALEX_ROLES = state({ kind: 'chooseRole', ...ALEX_CHOICE });
export const FLO_ROLES = state({ kind: 'chooseRole', ...FLO_CHOICE });
export const NO_ROLES = state({ kind: 'noRoles', user: { name: 'Noel Roles', userId: '555057920106', label: 'Noel Roles (555057920106)' } });
export const SIGNED_IN = state({ kind: 'signedIn', ...FLO_SIGNED_IN });
export const SIGNED_IN_TESTERS = state(
  { kind: 'signedIn', ...FLO_SIGNED_IN, canChangeRole: true },
  { preferences: { testersView: true }, tester: FLO_RECORD },
);

/** A refused attempt in the history. */
export const REFUSED_ATTEMPT: AttemptSummaryView = {
  id: '2026-12-07T143916.123Z-ab12',
  startedAt: NOW - 60,
  profile: 'mock',
  label: null,
  verdict: 'refused',
  errorCode: 'id_token_wrong_nonce',
  level: '3',
  authenticators: ['Smartcard (N3_SMARTCARD)'],
  failedChecks: ['id_token_nonce'],
};

/** Two attempts in the history: a refused one (newest) and a sign-in. */
export const ATTEMPTS: AttemptSummaryView[] = [
  REFUSED_ATTEMPT,
  {
    id: '2026-12-07T143800.004Z-0f3e',
    startedAt: NOW - 180,
    profile: 'mock',
    label: 'smartcard at AAL3',
    verdict: 'signed_in',
    errorCode: null,
    level: '3',
    authenticators: ['Smartcard (N3_SMARTCARD)'],
    failedChecks: [],
  },
];

export const ATTEMPT: AttemptView = {
  summary: REFUSED_ATTEMPT,
  errorMessage: 'the ID token was rejected: the ID token\u2019s nonce does not match the sign-in request',
  asked: [
    { name: 'acr_values', value: 'AAL3_ANY', source: 'overridden' },
    { name: 'prompt', value: null, source: 'not_sent' },
    { name: 'max_age', value: null, source: 'not_sent' },
    { name: 'scope', value: 'openid profile email nationalrbacaccess', source: 'profile' },
    { name: 'role', value: null, source: 'not_sent' },
  ],
  returned: [
    { name: 'acr', value: 'AAL3_ANY' },
    { name: 'amr', value: 'Smartcard (N3_SMARTCARD)' },
    { name: 'Authentication assurance level', value: '3' },
  ],
  checks: [
    { rule: 'state', description: 'The callback\u2019s state is the one this sign-in sent (RFC 6749 §10.12)', outcome: 'passed', detail: null },
    { rule: 'pushed_request', description: 'The authorization request is pushed first', outcome: 'not_applicable', detail: 'the provider offers no pushed requests' },
    { rule: 'id_token_nonce', description: 'nonce is the one this sign-in sent', outcome: 'failed', detail: 'the nonce differs' },
    { rule: 'max_age', description: 'auth_time is within the request\u2019s max_age', outcome: 'not_run', detail: null },
  ],
  headers: [{ name: 'id_token', value: 'alg RS256, kid mock-rs256-1, typ JWT' }],
  times: [{ name: 'id_token exp', value: '2026-12-07T15:39:16Z (1796658356)' }],
  timings: [
    { step: 'discovery', millis: 12 },
    { step: 'total', millis: 420 },
  ],
  timeline: [{ name: 'ended', value: '2026-12-07T15:00:00Z: signed_out: signed out' }],
  record: { id: '2026-12-07T143916.123Z-ab12', verdict: 'refused' },
};

/** The Runs page's plans: the example, one from the folder, and one that cannot be read. */
export const RUN_PLANS: RunPlansView = {
  folder: '/home/tester/.config/careid/plans',
  plans: [
    {
      id: 'example:mock.toml',
      origin: 'example',
      file: 'docs/examples/runs/mock.toml',
      name: 'Authenticators on the built-in mock',
      description: 'Each of a clinician’s authenticators at AAL3 and AAL2, in both role modes',
      profile: 'mock',
      cases: 16,
      unattended: true,
      expectedFailures: 0,
      problem: null,
    },
    {
      id: 'folder:int-smartcards.toml',
      origin: 'folder',
      file: 'int-smartcards.toml',
      name: 'Smartcards on INT',
      description: null,
      profile: 'int',
      cases: 4,
      unattended: false,
      expectedFailures: 1,
      problem: null,
    },
    {
      id: 'folder:draft.toml',
      origin: 'folder',
      file: 'draft.toml',
      name: null,
      description: null,
      profile: null,
      cases: 0,
      unattended: false,
      expectedFailures: 0,
      problem: '/home/tester/.config/careid/plans/draft.toml:3:11: profile: invalid type: integer `3`, expected a string',
    },
  ],
};

const RUN_CASES: RunCaseView[] = [
  {
    id: 'smartcard-AAL3_ANY-login',
    authenticator: 'smartcard',
    status: 'passed',
    verdict: 'signed_in',
    note: null,
    attempt: '2026-12-07T143900.001Z-7a1c',
    findings: [{ aspect: 'acr', shown: 'expected failure (INT answers AAL3_ANY for both)', expected: 'AAL2_OR_AAL3_ANY', actual: 'AAL3_ANY', detail: null }],
  },
  {
    id: 'security_key-AAL3_ANY-login',
    authenticator: 'FIDO2 security key',
    status: 'review',
    verdict: 'signed_in',
    note: null,
    attempt: '2026-12-07T144000.002Z-1b2d',
    findings: [{ aspect: 'review', shown: 'REVIEW', expected: 'The key asked for its PIN', actual: 'for a person to confirm', detail: null }],
  },
  {
    id: 'authenticator_app-AAL3_ANY-login',
    authenticator: 'authenticator app (such as Microsoft Authenticator)',
    status: 'failed',
    verdict: 'signed_in',
    note: null,
    attempt: '2026-12-07T144100.003Z-9c4e',
    findings: [{ aspect: 'outcome', shown: 'FAILED', expected: 'provider_error', actual: 'signed_in', detail: 'an AAL2 authenticator signed in at AAL3_ANY' }],
  },
  { id: 'ipad-AAL3_ANY-login', authenticator: 'NHS CIS2 Authentication iPad app', status: 'skipped', verdict: null, note: 'no iPad in the lab this week', attempt: null, findings: [] },
];

/** A run under way: case 2 of 4, a step asked. */
export const RUN_UNDER_WAY: RunView = {
  plan: 'Smartcards on INT',
  profile: 'int',
  label: 'INT, Tuesday’s build',
  state: 'running',
  current: 2,
  instruction: 'Use your FIDO2 security key',
  question: { case: 'security_key-AAL3_ANY-login', step: 'The key asked for its PIN' },
  cases: [RUN_CASES[0]!, { ...RUN_CASES[1]!, status: 'running', verdict: null, attempt: null, findings: [] }, { ...RUN_CASES[2]!, status: 'pending', verdict: null, attempt: null, findings: [] }, { ...RUN_CASES[3]!, status: 'pending', note: null }],
  summary: null,
  problems: [],
};

/** The same run finished, failed. */
export const RUN_FINISHED: RunView = {
  ...RUN_UNDER_WAY,
  state: 'failed',
  current: null,
  instruction: null,
  question: null,
  cases: RUN_CASES,
  summary: 'run FAILED: 4 cases; 1 passed, 1 to review, 1 failed, 1 skipped, 1 through expected failures',
  problems: ['authenticator_app-AAL3_ANY-login: outcome expected provider_error, got signed_in'],
};
