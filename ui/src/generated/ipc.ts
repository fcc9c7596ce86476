// Generated from src-tauri/src/ipc.rs by ts-rs: do not edit. `cargo xtask test` fails when stale;
// regenerate with CAREID_UPDATE_IPC=1 cargo test -p careid-desktop generated_ipc_types_are_current.

export type AppInfo = { name: string, version: string, buildProfile: string, };

export type AppState = { app: AppInfo, profile: ProfileView, profiles: Array<ProfileView>, screen: Screen, notice: Notice | null, preferences: Preferences, tester: TesterRecord | null, mockGuide: MockGuide, };

export type Preferences = { testersView: boolean, };

export type Screen = { "kind": "restoring" } | { "kind": "home" } | { "kind": "waiting" } & WaitingView | { "kind": "chooseRole" } & RoleChoiceView | { "kind": "noRoles" } & NoRolesView | { "kind": "signedIn" } & SignedInView;

export type WaitingView = { startedAt: number, deadline: number, hintAfterSeconds: number, redirectUri: string, changingRole: boolean, };

export type UserView = { name: string, userId: string, };

export type OrganisationView = { name: string, code: string, };

export type RoleView = { id: string, name: string, code: string, jobRoleCode: string, organisation: OrganisationView, activities: Array<string>, };

export type RoleGroupView = { organisation: OrganisationView, roles: Array<RoleView>, };

export type RoleChoiceView = { user: UserView, groups: Array<RoleGroupView>, preselected: string | null, changing: boolean, };

export type NoRolesView = { user: UserView, };

export type SignedInView = { user: UserView, role: RoleView | null, assuranceLevel: number | null, endsAt: number, idleEndsAt: number, inactivityMinutes: number, absoluteHours: number, inactivityWarning: boolean, canChangeRole: boolean, refreshable: boolean, };

export type Notice = { code: string, class: string, detail: string | null, providerError: string | null, providerDescription: string | null, };

export type ProfileView = { name: string, description: string, builtIn: boolean, issuer: string | null, clientId: string | null, clientAuth: string, assertionAlgorithm: string | null, credential: string, missing: Array<string>, scopes: Array<string>, acrValues: string | null, prompt: string | null, maxAge: number | null, roleSelection: string, redirectPorts: Array<number>, inactivityMinutes: number, absoluteHours: number, };

export type ProfileInput = { name: string, issuer: string | null, clientId: string | null, clientAuth: string | null, assertionAlgorithm: string | null, scopes: Array<string> | null, acrValues: string | null, prompt: string | null, maxAge: number | null, roleSelection: string | null, redirectPorts: Array<number> | null, inactivityMinutes: number | null, absoluteHours: number | null, };

export type LoginOverrides = { acrValues: string | null, prompt: string | null, maxAge: number | null, scopes: Array<string> | null, };

export type TimingView = { step: string, millis: number, };

export type TesterRecord = { profile: string, issuer: string, signedInAt: number, acr: string | null, amr: Array<string>, authenticationAssuranceLevel: string | null, idAssuranceLevel: string | null, authTime: number | null, sid: string | null, selectedRoleid: string | null, requested: LoginOverrides, idTokenClaims: Record<string, unknown>, accessTokenClaims: Record<string, unknown> | null, userinfo: Record<string, unknown> | null, discovery: Record<string, unknown>, timings: Array<TimingView>, };

export type MockGuide = { users: Array<MockUserView>, authenticators: Array<MockAuthenticatorView>, };

export type MockUserView = { id: string, name: string, description: string, roles: number, authenticators: Array<string>, };

export type MockAuthenticatorView = { id: string, label: string, assuranceLevel: number, amr: string, };

export type DoctorLine = { name: string, status: string, detail: string, };

export type CommandError = { code: string, class: string, message: string, };
