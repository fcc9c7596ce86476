//! The built-in mock outlives the `careid` process that started it: commands run at the same
//! time on the default `mock` profile while the one serving the mock exits, round after round,
//! and none fails; the mock's issuer, and so the session, stays put throughout.

use std::collections::BTreeSet;

use careid_e2e::CliWorld;

const NURSE: &str = "555057896106";
const ROUNDS: usize = 12;
/// The commands of a round, all at once; two refreshes so they rotate the refresh token in turn.
const COMMANDS: [&[&str]; 5] = [
    &["token", "--refresh"],
    &["userinfo"],
    &["roles"],
    &["status"],
    &["token", "--refresh"],
];

/// The mock's record: its issuer and the process serving it.
fn record(world: &CliWorld) -> (String, u64) {
    let path = world.state_dir().join("mock-provider.run.json");
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("the record")).expect("JSON");
    (
        record["issuer"].as_str().expect("an issuer").to_owned(),
        record["pid"].as_u64().expect("a pid"),
    )
}

#[test]
fn parallel_commands_never_fail_while_the_process_serving_the_mock_exits() {
    let world = CliWorld::new().expect("a test home");
    world.ok(&["login", "--mock-auto-login", NURSE]);
    let (issuer, _) = record(&world);
    let mut servers = BTreeSet::new();
    for round in 0..ROUNDS {
        let runs = std::thread::scope(|scope| {
            let running: Vec<_> = COMMANDS
                .iter()
                .map(|args| (args, scope.spawn(|| world.run(args).expect("careid runs"))))
                .collect();
            running
                .into_iter()
                .map(|(args, run)| (args, run.join().expect("the run's thread")))
                .collect::<Vec<_>>()
        });
        for (args, run) in runs {
            assert_eq!(
                run.code,
                Some(0),
                "round {round}: careid {args:?} failed:\n{}",
                run.text()
            );
        }
        let (now, pid) = record(&world);
        assert_eq!(now, issuer, "round {round}: the issuer stays put");
        servers.insert(pid);
    }
    // Every round's mock was served by one of that round's processes, which all exited.
    assert_eq!(
        servers.len(),
        ROUNDS,
        "a new server each round: {servers:?}"
    );
    // No refresh token was lost or reused on the way: the session still refreshes.
    world.ok(&["token", "--refresh"]);
}
