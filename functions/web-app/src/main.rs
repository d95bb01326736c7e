use lambda_http::{Error, Request, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    shared::telemetry::run_http(service_fn(|req: Request| async move {
        Ok::<_, Error>(web_app::handle(&req))
    }))
    .await
}
