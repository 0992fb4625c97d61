{
  "targets": [
    {
      "target_name": "packet_sender",
      "sources": ["packet_sender.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
