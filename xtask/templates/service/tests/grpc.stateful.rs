//! {{name}} as its gRPC clients see it: the real server on an ephemeral port with a fresh SQLite
//! database, called through the generated client.

use platform::{
    Shutdown,
    config::from_env,
    grpc_server::Listeners,
    testing::{Backend, TestDatabase, loopback_listener},
};
use shop_proto::{{name}}::v1::{
    Create{{Pascal}}Request, Get{{Pascal}}Request, {{name}}_service_client::{{Pascal}}ServiceClient,
    {{name}}_service_server::SERVICE_NAME,
};
use std::{collections::BTreeMap, time::Duration};
use tokio::task::JoinHandle;
use tonic::{Code, transport::Channel};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// A running {{name}}: a channel to it, and what it takes to stop it.
struct Running {
    channel: Channel,
    shutdown: Shutdown,
    server: JoinHandle<anyhow::Result<()>>,
    _database: TestDatabase,
}

impl Running {
    async fn stop(self) {
        self.shutdown.trigger();
        let result = self.server.await.expect("the server task does not panic");
        result.expect("{{name}} stops cleanly");
    }
}

/// Starts {{name}} as its binary does, on port 0 with its own database, and waits until it is ready.
async fn spawn_{{name}}() -> Running {
    let database = TestDatabase::new(Backend::Sqlite).await;
    let vars = BTreeMap::from([("DATABASE_URL".to_owned(), database.url.clone())]);
    let config: {{name}}::Config = from_env("{{name}}", &vars).expect("the config loads");
    let listeners = Listeners {
        main: loopback_listener().await,
        admin: Some(loopback_listener().await),
    };
    let addr = listeners.main.local_addr().unwrap();
    let shutdown = Shutdown::new();
    let server = tokio::spawn({{name}}::serve(listeners, config, shutdown.clone()));
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_lazy();
    wait_until_serving(&channel).await;
    Running {
        channel,
        shutdown,
        server,
        _database: database,
    }
}

/// Waits on readiness, never on a fixed sleep: the service's own health status turns SERVING once it
/// can take calls.
async fn wait_until_serving(channel: &Channel) {
    let mut health = HealthClient::new(channel.clone());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let request = HealthCheckRequest {
            service: SERVICE_NAME.into(),
        };
        if let Ok(response) = health.check(request).await
            && response.into_inner().status == ServingStatus::Serving as i32
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{{name}} was not serving within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn {{name}}_reports_serving_and_a_created_record_can_be_read_back() {
    let running = spawn_{{name}}().await;
    let mut health = HealthClient::new(running.channel.clone());
    for service in ["", SERVICE_NAME] {
        let request = HealthCheckRequest {
            service: service.into(),
        };
        let status = health.check(request).await.unwrap().into_inner().status;
        assert_eq!(status, ServingStatus::Serving as i32, "health of {service:?}");
    }

    let mut client = {{Pascal}}ServiceClient::new(running.channel.clone());
    let created = client
        .create_{{name}}(Create{{Pascal}}Request {
            name: "first".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!created.id.is_empty());
    assert_eq!(created.name, "first");
    let read = client
        .get_{{name}}(Get{{Pascal}}Request {
            id: created.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read, created);
    running.stop().await;
}

#[tokio::test]
async fn a_blank_name_is_invalid_and_an_unknown_id_not_found() {
    let running = spawn_{{name}}().await;
    let mut client = {{Pascal}}ServiceClient::new(running.channel.clone());
    let error = client
        .create_{{name}}(Create{{Pascal}}Request { name: " ".into() })
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument, "{error:?}");
    let error = client
        .get_{{name}}(Get{{Pascal}}Request { id: "nope".into() })
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::NotFound, "{error:?}");
    running.stop().await;
}
