//! TopicList bodies (the topic-list codes' replies), in either dialect.
//!
//! Properties: no panic; decode → encode → decode keeps the broker address and
//! the set of topics (the list is a Java Set: written deduplicated, in the set's
//! iteration order).
#![no_main]

use std::collections::BTreeSet;

use libfuzzer_sys::fuzz_target;
use protocol::body::TopicList;
use protocol::json::Dialect;

fuzz_target!(|data: &[u8]| {
    let Ok(list) = TopicList::decode(data) else {
        return;
    };
    let topics: BTreeSet<&String> = list.topic_list.iter().collect();
    for dialect in [Dialect::Legacy, Dialect::Standard] {
        let mut out = Vec::new();
        list.encode(dialect, &mut out);
        let back = TopicList::decode(&out).expect("our own topic list must decode");
        assert_eq!(back.broker_addr, list.broker_addr);
        assert_eq!(back.topic_list.len(), topics.len(), "duplicates written");
        let back_topics: BTreeSet<&String> = back.topic_list.iter().collect();
        assert_eq!(
            back_topics, topics,
            "topics changed on a trip through {dialect:?}"
        );
    }
});
