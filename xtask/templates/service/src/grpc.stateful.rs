//! The gRPC face of {{name}}: maps messages to and from the use cases (app.rs) and their errors to
//! `Status`. No rule lives here.

use crate::{
    app::{AppError, {{Pascal}}App},
    domain::{{{Pascal}}, {{Pascal}}Error},
    store::SqlStore,
};
use shop_proto::{{name}}::v1 as pb;
use tonic::{Request, Response, Status};

pub struct {{Pascal}}Grpc {
    app: {{Pascal}}App<SqlStore>,
}

impl {{Pascal}}Grpc {
    pub fn new(app: {{Pascal}}App<SqlStore>) -> Self {
        Self { app }
    }
}

/// A refused request is the caller's to fix; a storage error is UNAVAILABLE only when a retry can
/// help (platform::db::storage_status).
fn status(error: AppError<sqlx::Error>) -> Status {
    match error {
        AppError::Rule(e @ {{Pascal}}Error::Invalid(_)) => Status::invalid_argument(e.to_string()),
        AppError::Rule(e @ {{Pascal}}Error::NotFound(_)) => Status::not_found(e.to_string()),
        AppError::Storage(e) => platform::db::storage_status("{{name}}", &e),
    }
}

fn to_pb(record: {{Pascal}}) -> pb::{{Pascal}} {
    pb::{{Pascal}} {
        id: record.id,
        name: record.name,
        created_at: record.created_at,
    }
}

#[tonic::async_trait]
impl pb::{{name}}_service_server::{{Pascal}}Service for {{Pascal}}Grpc {
    #[tracing::instrument(skip_all)]
    async fn create_{{name}}(
        &self,
        request: Request<pb::Create{{Pascal}}Request>,
    ) -> Result<Response<pb::{{Pascal}}>, Status> {
        let created = self.app.create(&request.into_inner().name).await.map_err(status)?;
        tracing::info!(id = %created.id, "created");
        Ok(Response::new(to_pb(created)))
    }

    #[tracing::instrument(skip_all, fields(id = %request.get_ref().id))]
    async fn get_{{name}}(
        &self,
        request: Request<pb::Get{{Pascal}}Request>,
    ) -> Result<Response<pb::{{Pascal}}>, Status> {
        let record = self.app.get(&request.into_inner().id).await.map_err(status)?;
        Ok(Response::new(to_pb(record)))
    }
}
