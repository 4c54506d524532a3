//! Unit tests of the core fed by hand: inputs about things that do not
//! exist, completions on idle agents, and what `unfinished` reports.

use super::slab::Key;
use super::*;

/// The core of scenarios/mmc.toml: one pool `server` in domain `Q`.
fn mmc_core() -> Core {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/mmc.toml");
    let (scenario, org) = crate::org::Org::load(&path, &[]).unwrap();
    Core::new(crate::sim::core_config(&scenario, &org).unwrap())
}

fn first_worker(core: &Core) -> AgentIdx {
    let i = core.cfg.agents.iter().position(|a| a.pool.is_some());
    AgentIdx(i.expect("mmc has a worker") as u16)
}

#[test]
fn inputs_about_things_that_do_not_exist_break_the_cheap_invariants() {
    let mut core = mmc_core();
    core.check_all().unwrap();
    let ghost = WorkKey(Key { index: 5, gen: 0 });
    let t = SimInstant(1);
    core.handle(
        t,
        Input::Deliver(Msg::WorkResult {
            work: ghost,
            ok: true,
        }),
    );
    let err = core.check_cheap().unwrap_err();
    assert!(err.contains("result for unknown work item"), "{err}");
    assert!(core.check_invariants().is_err());
}

#[test]
fn a_completion_on_an_idle_agent_is_caught() {
    let mut core = mmc_core();
    let agent = first_worker(&core);
    let work = WorkKey(Key { index: 0, gen: 0 });
    let done = Input::WorkDone {
        agent,
        work,
        token: 0,
        ok: true,
    };
    core.handle(SimInstant(1), done);
    let err = core.check_cheap().unwrap_err();
    assert!(err.contains("work done on an idle agent"), "{err}");
}

#[test]
fn jobs_are_unfinished_until_their_result_and_blocked_only_by_a_fault() {
    let mut core = mmc_core();
    let job = NewJob {
        text: "job",
        priority: Priority::Normal,
        class: TaskIdx(0),
        external: ExternalId(7),
    };
    core.handle(SimInstant(0), Input::Arrival(job));
    while let Some(a) = core.poll_action() {
        if let Action::Command(Command::Send { msg, .. }) = a {
            core.handle(SimInstant(0), Input::Deliver(msg));
        }
    }
    let open = core.unfinished();
    assert_eq!(open.len(), 1);
    assert!(
        !open[0].blocked,
        "a job running on a live agent is not blocked"
    );
    let agent = first_worker(&core);
    core.handle(SimInstant(1), Input::AgentDown(agent));
    assert!(core.unfinished()[0].blocked, "held by a down agent");
    core.check_all().unwrap();
}
