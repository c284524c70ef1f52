use super::*;

/// Round numbers, so the expected values can be checked by hand; the model's
/// arithmetic is under test here, not the measured constants.
const TEST: Costs = Costs {
    source: "test",
    lookup_saturated_us: 2.0,
    lookup_open_us: 10.0,
    changed_shard: Linear {
        fixed_us: 50.0,
        per_topic_us: 1.0,
    },
    changed_writer: Linear {
        fixed_us: 100.0,
        per_topic_us: 2.0,
    },
    unchanged_shard: Linear {
        fixed_us: 20.0,
        per_topic_us: 0.1,
    },
    unchanged_writer: Linear {
        fixed_us: 15.0,
        per_topic_us: 0.0,
    },
    expiry: Linear {
        fixed_us: 80.0,
        per_topic_us: 1.5,
    },
};

/// 10 groups (1 master + 1 slave) in 2 clusters, 1,000 topics on 4 groups each,
/// 3,000 clients x 4 topics every 30 s, 0.5 data changes/s, 12 churn events/min.
pub(crate) fn estate() -> Scenario {
    Scenario::from_toml(
        r#"
        [brokers]
        clusters = 2
        groups = 10
        slaves = 1
        register_period = "30s"
        data_changes_per_sec = 0.5
        [topics]
        count = 1000
        groups_per_topic = 4
        system_topics = true
        [clients]
        mode = "open"
        count = 3000
        topics_per_client = 4
        refresh_period = "30s"
        [churn]
        crashes_per_min = 6
        shutdowns_per_min = 6
        "#,
        &[],
    )
    .expect("scenario")
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-9, "{a} != {b}");
}

#[test]
fn load_of_a_scenario() {
    let l = Load::of(&estate());
    // 1,000 topics x 4 groups / 10 groups + cluster + broker name + 4 system topics
    close(l.topics_per_registration, 406.0);
    close(l.lookups_per_sec, 400.0); // 3,000 x 4 / 30 s
    close(l.unchanged_per_sec, 20.0 / 30.0); // 20 processes every 30 s
    close(l.changed_per_sec, 0.5 * 2.0 + 0.2); // both members per change, rejoins
    close(l.expiries_per_sec, 0.2);
}

#[test]
fn time_scale_and_closed_loops() {
    let mut sc = estate();
    sc.time_scale = 0.1;
    let l = Load::of(&sc);
    close(l.unchanged_per_sec, 20.0 / 3.0);
    close(l.lookups_per_sec, 4000.0);
    assert!(l.lookups_modelled);
    sc.clients.mode = ClientMode::Closed;
    close(Load::of(&sc).lookups_per_sec, 0.0);
    assert!(!Load::of(&sc).lookups_modelled);
}

#[test]
fn topics_per_registration_follow_the_topic_switches() {
    // 400 user topics each + the cluster-name topic, then the broker-name one
    // and the 4 shared system topics only when on
    let mut sc = estate();
    sc.topics.broker_topics = false;
    close(Load::of(&sc).topics_per_registration, 405.0);
    sc.topics.system_topics = false;
    close(Load::of(&sc).topics_per_registration, 401.0);
    sc.topics.broker_topics = true;
    close(Load::of(&sc).topics_per_registration, 402.0);
}

#[test]
fn closed_loop_sentence_leaves_lookups_out() {
    let mut sc = estate();
    sc.time_scale = 0.01;
    sc.clients.mode = ClientMode::Closed;
    // shard 4,587 µs/s + writer 2,232 µs/s = 0.0068 cores
    assert_eq!(
        crate::plan::model_sentence(&TEST, &Load::of(&sc)),
        "By the measured per-operation costs (test), this estate needs 0.007 cores of server \
         CPU besides lookups (a closed loop's lookups take whatever is left, so they are not \
         modelled): registrations 66.7/s unchanged and 1.2/s changed, 406 topics each; the \
         writer: 0.2 % of one core; the writer saturates at 1,096 changed registrations/s of \
         406 topics."
    );
}

#[test]
fn demand_by_part() {
    let d = TEST.demand(&Load::of(&estate()));
    close(d.lookups, 400.0 * 10e-6);
    // 1.2/s x (50 + 406) + 0.667/s x (20 + 40.6)
    close(
        d.registrations_shard,
        (1.2 * 456.0 + 60.6 * 20.0 / 30.0) * 1e-6,
    );
    // 1.2/s x (100 + 812) + 0.667/s x 15 + 0.2/s x (80 + 609)
    close(d.writer, (1.2 * 912.0 + 10.0 + 0.2 * 689.0) * 1e-6);
    close(d.writer_limit_per_sec, 1e6 / 912.0);
    close(d.total(), 0.004 + 587.6e-6 + 1242.2e-6);
}

#[test]
fn lookups_per_core_count() {
    close(TEST.lookups_at(1, 0.0), 500_000.0);
    close(TEST.lookups_at(4, 0.5), 1_750_000.0);
    // a saturated writer takes its whole core, no more
    close(TEST.lookups_at(2, 3.0), 500_000.0);
}

#[test]
fn capacity_node_or_writer_bound() {
    // 406 topics: changed 456 µs on the shard + 912 on the writer; unchanged 60.6 + 15
    let one = TEST.capacity(1, 406.0);
    close(one.changed_per_sec, 1e6 / 1368.0);
    assert!(!one.writer_bound);
    close(one.unchanged_per_sec, 1e6 / 75.6);
    close(one.lookups_per_sec, 500_000.0);
    let two = TEST.capacity(2, 406.0);
    close(two.changed_per_sec, 1e6 / 912.0);
    assert!(two.writer_bound);
    let four = TEST.capacity(4, 406.0);
    close(four.changed_per_sec, 1e6 / 912.0);
    close(four.unchanged_per_sec, 4e6 / 75.6);
    close(TEST.capacity(16, 406.0).unchanged_per_sec, 1e6 / 15.0);
}

#[test]
fn plan_sentence_exact() {
    let mut sc = estate();
    sc.time_scale = 0.01; // 40,000 lookups/s, 66.7 re-registrations/s
                          // lookups 40,000 x 10 µs = 0.40; shard 1.2 x 456 + 66.7 x 60.6 = 4,587 µs/s;
                          // writer 1.2 x 912 + 66.7 x 15 + 0.2 x 689 = 2,232 µs/s (0.22 %)
    assert_eq!(
        crate::plan::model_sentence(&TEST, &Load::of(&sc)),
        "By the measured per-operation costs (test), this estate needs 0.41 cores of server CPU: \
         0.40 for lookups (40,000/s), 0.007 for registrations (66.7/s unchanged and 1.2/s \
         changed, 406 topics each; the writer: 0.2 % of one core); the writer saturates at \
         1,096 changed registrations/s of 406 topics."
    );
}
