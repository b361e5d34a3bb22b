from diaryadmin.launch import run

run()
