//! The store under concurrent writers, on both backends: no "database is
//! locked", no lost or duplicated sequence numbers, and numbers that
//! survive a restart.
#![cfg(feature = "ssr")]

mod common;

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use common::{Db, FreshDb};
use giftlist::store::{
    outbox::{self, Audience, NewEvent},
    Store,
};

on_both_backends!(
    fifty_concurrent_writers_never_fail,
    sequence_numbers_survive_a_restart,
    the_share_links_migration_keeps_every_event
);

const WRITERS: usize = 50;
const TOPICS: usize = 5;
const RUN_FOR: Duration = Duration::from_secs(3);

/// 50 tasks append events for three seconds, spread over two store handles
/// on the same database (two pools: SQLite's lock is contended between
/// them, not only queued in one pool). Every write must succeed, and each
/// topic's numbers must be exactly 1..=n.
async fn fifty_concurrent_writers_never_fail(db: Db) {
    let fresh = FreshDb::new(db).await;
    let stores = [
        Store::open(&fresh.url).await.unwrap(),
        Store::open(&fresh.url).await.unwrap(),
    ];

    let deadline = Instant::now() + RUN_FOR;
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let store = stores[writer % 2].clone();
        tasks.push(tokio::spawn(async move {
            let topic = format!("gift-list:l_{}", writer % TOPICS);
            let mut written = Vec::new();
            while Instant::now() < deadline {
                // Read, then write, in one transaction: the pattern that a
                // deferred BEGIN turns into "database is locked".
                let mut tx = store.begin_write().await?;
                let before = outbox::last_seq(&mut *tx, &topic, Audience::Members).await?;
                let event = outbox::append(
                    &mut tx,
                    NewEvent {
                        topic: &topic,
                        audience: Audience::Members,
                        event: "ADDED",
                        entity_id: &format!("i_{writer}"),
                        payload: "{}",
                        user_id: Some("u_1"),
                        tenant_id: Some("f_1"),
                        trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
                    },
                )
                .await?;
                if matches!(db, Db::Sqlite) {
                    // BEGIN IMMEDIATE: nobody writes between our read and
                    // our write. (PostgreSQL's read committed promises no
                    // such thing; there only the counter row is locked.)
                    assert_eq!(event.seq, before + 1, "another writer slipped in");
                }
                tx.commit().await?;
                written.push((topic.clone(), event.seq));
            }
            Ok::<_, sqlx::Error>(written)
        }));
    }

    let mut per_topic: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut failures = Vec::new();
    for task in tasks {
        match task.await.expect("writer task does not panic") {
            Ok(written) => {
                for (topic, seq) in written {
                    per_topic.entry(topic).or_default().push(seq);
                }
            }
            Err(err) => failures.push(err.to_string()),
        }
    }
    assert!(failures.is_empty(), "writes failed: {failures:?}");

    let mut total = 0;
    for (topic, mut seqs) in per_topic {
        seqs.sort_unstable();
        let expected: Vec<i64> = (1..=seqs.len() as i64).collect();
        assert_eq!(seqs, expected, "{topic}: numbers must be 1..=n, each once");
        let stored = outbox::since(stores[0].pool(), &topic, Audience::Members, 0, i64::MAX)
            .await
            .unwrap();
        assert_eq!(
            stored.len(),
            seqs.len(),
            "{topic}: every committed event is stored"
        );
        total += seqs.len();
    }
    assert!(total >= WRITERS, "only {total} writes in {RUN_FOR:?}");
    eprintln!("{db:?}: {total} committed writes by {WRITERS} writers in {RUN_FOR:?}");

    for store in &stores {
        store.close().await;
    }
    fresh.drop_database().await;
}

/// Reopening the database (as a restart does) runs no migration twice and
/// continues each stream where it stopped; streams of one topic count apart.
async fn sequence_numbers_survive_a_restart(db: Db) {
    let fresh = FreshDb::new(db).await;
    let append = |store: Store, audience: Audience| async move {
        let mut tx = store.begin_write().await.unwrap();
        let event = outbox::append(
            &mut tx,
            NewEvent {
                topic: "gift-list:l_1",
                audience,
                event: "UPDATED",
                entity_id: "i_1",
                payload: r#"{"title":"Bike"}"#,
                user_id: None,
                tenant_id: Some("f_1"),
                trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        event
    };

    let store = Store::open(&fresh.url).await.unwrap();
    assert_eq!(append(store.clone(), Audience::Members).await.seq, 1);
    assert_eq!(append(store.clone(), Audience::Members).await.seq, 2);
    assert_eq!(append(store.clone(), Audience::Recipient).await.seq, 1);
    store.close().await;

    let store = Store::open(&fresh.url).await.unwrap();
    let third = append(store.clone(), Audience::Members).await;
    assert_eq!(third.seq, 3);
    assert!(
        third.created_at.ends_with('Z') && third.created_at.len() == 24,
        "{}",
        third.created_at
    );
    assert_eq!(
        outbox::last_seq(store.pool(), "gift-list:l_1", Audience::Recipient)
            .await
            .unwrap(),
        1
    );
    let replay = outbox::since(store.pool(), "gift-list:l_1", Audience::Members, 1, 10)
        .await
        .unwrap();
    assert_eq!(replay.iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 3]);
    assert_eq!(replay[0].payload, r#"{"title":"Bike"}"#);
    assert_eq!(replay[0].user_id, None);
    store.close().await;
    fresh.drop_database().await;
}

/// The SQLite file is in WAL mode, and every pooled connection waits for
/// the write lock instead of failing at once.
#[tokio::test]
async fn sqlite_uses_wal_and_a_busy_timeout() {
    let fresh = FreshDb::new(Db::Sqlite).await;
    let store = Store::open(&fresh.url).await.unwrap();
    let mode: String = sqlx::query_scalar("pragma journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    for pool in [store.pool(), store.writes()] {
        let timeout: i64 = sqlx::query_scalar("pragma busy_timeout")
            .fetch_one(pool)
            .await
            .unwrap();
        assert!(timeout >= 5_000, "busy_timeout {timeout}");
        let foreign_keys: i64 = sqlx::query_scalar("pragma foreign_keys")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(foreign_keys, 1);
    }
    store.close().await;
}

/// A database one migration behind (before share links, whose SQLite step
/// rebuilds `streams` and `events`) with events in it: migrating keeps
/// every event and counter, and the new audiences are then accepted.
async fn the_share_links_migration_keeps_every_event(db: Db) {
    use sqlx::any::AnyPoolOptions;
    let fresh = FreshDb::new(db).await;
    let (mut migrator, url) = match db {
        Db::Sqlite => (
            sqlx::migrate!("migrations/sqlite"),
            format!("{}?mode=rwc", fresh.url.expose()),
        ),
        Db::Postgres => (
            sqlx::migrate!("migrations/postgres"),
            fresh.url.expose().to_owned(),
        ),
    };
    let all = migrator.migrations.to_vec();
    let before = all
        .iter()
        .position(|m| m.description.contains("share links"))
        .expect("the share links migration");
    migrator.migrations = all[..before].to_vec().into();
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    migrator.run(&pool).await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    for n in 0..3 {
        outbox::append(
            &mut tx,
            NewEvent {
                topic: "gift-list:l_1",
                audience: Audience::Members,
                event: "ADDED",
                entity_id: &format!("i_{n}"),
                payload: "{}",
                user_id: Some("u_1"),
                tenant_id: Some("f_1"),
                trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    pool.close().await;

    let store = Store::open(&fresh.url).await.unwrap();
    let kept = outbox::since(store.pool(), "gift-list:l_1", Audience::Members, 0, 10)
        .await
        .unwrap();
    assert_eq!(kept.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
    let mut tx = store.begin_write().await.unwrap();
    for audience in [Audience::Members, Audience::Guests, Audience::Viewers] {
        outbox::append(
            &mut tx,
            NewEvent {
                topic: "gift-list:l_1",
                audience,
                event: "UPDATED",
                entity_id: "l_1",
                payload: "{}",
                user_id: None,
                tenant_id: None,
                trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(
        outbox::last_seq(store.pool(), "gift-list:l_1", Audience::Members)
            .await
            .unwrap(),
        4
    );
    store.close().await;
    fresh.drop_database().await;
}
