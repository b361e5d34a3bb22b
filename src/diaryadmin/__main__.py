from diaryadmin.cli import main

main()
