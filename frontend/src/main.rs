//! The console's entry point: mounts the one app ([`tagstream_frontend::frame`]).

fn main() {
    tagstream_frontend::frame::start();
}
